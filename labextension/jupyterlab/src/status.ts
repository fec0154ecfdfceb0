/** The status bar item: the sandbox's state and the AI quota used. */
import { Widget } from '@lumino/widgets';
import type { IdeApi, Quota, Subsystem } from './api';
import type { AIState } from './state';

const REFRESH_MS = 60_000;

/** "12.3k" for big numbers. */
export function short(n: number): string {
  return n >= 1_000_000
    ? `${(n / 1e6).toFixed(1)}M`
    : n >= 1000
      ? `${(n / 1000).toFixed(1)}k`
      : String(n);
}

/** The sandbox in words: "sandbox ok", "sandbox off" (not sandboxed), ... */
export function sandboxText(sandbox: Subsystem | undefined): string {
  return sandbox ? `Sandbox: ${sandbox.state}` : 'Sandbox: unknown';
}

/** The AI part: the fullest quota ("AI 1.2k/200k tokens"), or the mode when nothing limits. */
export function aiText(mode: string | null, limits: Quota[], unavailable: string | null): string {
  if (unavailable) {
    return 'AI: unavailable';
  }
  if (mode === 'off') {
    return 'AI: off';
  }
  const limited = limits.filter((l) => l.limit > 0);
  if (!limited.length) {
    return mode ? `AI: ${mode}` : 'AI: …';
  }
  const fullest = limited.reduce((a, b) => (b.used / b.limit > a.used / a.limit ? b : a));
  return `AI: ${short(fullest.used)}/${short(fullest.limit)} ${fullest.name}`;
}

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
