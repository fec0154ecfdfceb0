/** The status bar item: the sandbox's state and the AI quota used. */
import { Widget } from '@lumino/widgets';
import type { IdeApi, Quota } from './api';
import { aiText, sandboxText, short } from './statusText';
import type { AIState } from './state';

const REFRESH_MS = 60_000;

/** A small text item, read again every minute and after every AI change. */
export class StatusItem extends Widget {
  private readonly sandbox = document.createElement('span');
  private readonly ai = document.createElement('span');
  private readonly timer: number;

  constructor(
    private readonly api: IdeApi,
    private readonly state: AIState,
  ) {
    super();
    this.addClass('jp-IdeStatus');
    this.node.dataset.testid = 'ide-status';
    this.sandbox.dataset.testid = 'ide-status-sandbox';
    this.ai.dataset.testid = 'ide-status-ai';
    this.node.append(this.sandbox, document.createTextNode(' · '), this.ai);
    this.sandbox.textContent = 'Sandbox: …';
    this.ai.textContent = 'AI: …';
    state.changed.connect(this.refreshAI, this);
    this.timer = window.setInterval(() => void this.refresh(), REFRESH_MS);
    void this.refresh();
  }

  override dispose(): void {
    window.clearInterval(this.timer);
    this.state.changed.disconnect(this.refreshAI, this);
    super.dispose();
  }

  /** Read the health and the usage again. */
  async refresh(): Promise<void> {
    try {
      const health = await this.api.health();
      const sandbox = health.sandbox;
      this.sandbox.textContent = sandboxText(sandbox);
      this.sandbox.title = sandbox?.detail ?? '';
      this.sandbox.dataset.state = sandbox?.state ?? '';
    } catch {
      this.sandbox.textContent = 'Sandbox: unreachable';
    }
    await this.refreshAI();
  }

  private async refreshAI(): Promise<void> {
    const mode = this.state.policy?.mode ?? null;
    let limits: Quota[] = [];
    let title = '';
    if (mode !== null && mode !== 'off' && !this.state.unavailable) {
      try {
        const usage = await this.api.usage();
        limits = usage.limits;
        title = usage.warning ?? `${short(usage.totalTokens)} tokens used`;
      } catch {
        title = 'AI usage could not be read';
      }
    }
    this.ai.textContent = aiText(mode, limits, this.state.unavailable);
    this.ai.title = this.state.unavailable ?? title;
  }
}
