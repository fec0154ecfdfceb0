/** The AI chat side panel: streaming answers through the proxy, course picker, policy notice. */
import { Widget } from '@lumino/widgets';
import { messageOf } from './api';
import { chatAllowed, chatMessages, type ChatMessage, type OpenFile } from './prompts';
import type { AIState } from './state';

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  testId?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (testId) {
    node.dataset.testid = testId;
  }
  return node;
}

/** The policy in words, or null when nothing needs saying. */
export function policyNotice(state: AIState): string | null {
  const policy = state.policy;
  if (state.unavailable) {
    return `The assistant is unavailable: ${state.unavailable}`;
  }
  if (!policy) {
    return null;
  }
  const where = policy.course ? ` in ${policy.course}` : '';
  if (policy.mode === 'off') {
    return `The AI assistant is off${where}${policy.reason ? `: ${policy.reason}` : ''}.`;
  }
  if (policy.mode === 'hint') {
    return `Hints only${where}: the assistant explains and guides, but writes no solutions, and there are no inline completions.`;
  }
  return null;
}

/** The chat panel of the left or right side bar. */
export class ChatPanel extends Widget {
  private readonly courseSelect = element('select', 'jp-IdeChat-course', 'ide-chat-course');
  private readonly courseLabel = element('label', 'jp-IdeChat-courseLabel');
  private readonly modelSelect = element('select', 'jp-IdeChat-model', 'ide-chat-model');
  private readonly notice = element('div', 'jp-IdeChat-notice', 'ide-chat-notice');
  private readonly log = element('div', 'jp-IdeChat-log', 'ide-chat-log');
  private readonly input = element('textarea', 'jp-IdeChat-input', 'ide-chat-input');
  private readonly send = element(
    'button',
    'jp-IdeChat-send jp-mod-styled jp-mod-accept',
    'ide-chat-send',
  );
  private readonly history: ChatMessage[] = [];
  private controller: AbortController | null = null;

  constructor(
    private readonly state: AIState,
    private readonly openFile: () => OpenFile | null,
  ) {
    super();
    this.id = 'jupyter-ide-chat';
    this.addClass('jp-IdeChat');
    this.title.caption = 'AI assistant (jupyter-ide)';
    const head = element('div', 'jp-IdeChat-head');
    this.courseLabel.textContent = 'Course ';
    this.courseLabel.appendChild(this.courseSelect);
    const modelLabel = element('label', 'jp-IdeChat-modelLabel');
    modelLabel.textContent = 'Model ';
    modelLabel.appendChild(this.modelSelect);
    head.append(this.courseLabel, modelLabel);
    this.input.placeholder = 'Ask about your code (Enter sends, Shift+Enter: new line)';
    this.input.rows = 3;
    this.send.textContent = 'Send';
    const form = element('div', 'jp-IdeChat-form');
    form.append(this.input, this.send);
    this.node.append(head, this.notice, this.log, form);
    this.courseSelect.addEventListener('change', () => {
      void this.state.setCourse(this.courseSelect.value || null);
    });
    this.modelSelect.addEventListener('change', () => {
      this.state.setModel(this.modelSelect.value);
    });
    this.send.addEventListener('click', () => void this.ask());
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        void this.ask();
      }
    });
    state.changed.connect(this.render, this);
    this.render();
  }

  override dispose(): void {
    this.controller?.abort();
    this.state.changed.disconnect(this.render, this);
    super.dispose();
  }

  /** Show the course picker (several courses only), the notice, and whether one may ask. */
  private render(): void {
    const policy = this.state.policy;
    const courses = policy?.courses ?? [];
    this.courseLabel.hidden = courses.length < 2;
    this.courseSelect.replaceChildren(
      ...['', ...courses].map((name) => {
        const option = document.createElement('option');
        option.value = name;
        option.textContent = name || '(strictest of my courses)';
        return option;
      }),
    );
    this.courseSelect.value = this.state.api.course ?? '';
    this.modelSelect.replaceChildren(
      ...this.state.models.map((name) => {
        const option = document.createElement('option');
        option.value = option.textContent = name;
        return option;
      }),
    );
    this.modelSelect.value = this.state.model ?? '';
    this.modelSelect.disabled = this.state.models.length < 2;
    const notice = policyNotice(this.state);
    this.notice.textContent = notice ?? '';
    this.notice.hidden = notice === null;
    const open = chatAllowed(policy?.mode ?? null) && !!this.state.model && !this.state.unavailable;
    this.input.disabled = !open;
    this.send.disabled = !open || this.controller !== null;
    this.node.dataset.mode = policy?.mode ?? '';
  }

  private bubble(role: 'user' | 'assistant' | 'error', text: string): HTMLElement {
    const node = element('div', `jp-IdeChat-message jp-IdeChat-${role}`, `ide-chat-${role}`);
    node.textContent = text;
    this.log.appendChild(node);
    this.log.scrollTop = this.log.scrollHeight;
    return node;
  }

  /** Send the question with the open file as context; stream the answer in. */
  async ask(question = this.input.value): Promise<void> {
    const model = this.state.model;
    if (!question.trim() || !model || this.controller) {
      return;
    }
    this.input.value = '';
    this.bubble('user', question);
    const answer = this.bubble('assistant', '');
    answer.dataset.streaming = 'true';
    const controller = new AbortController();
    this.controller = controller;
    this.render();
    let text = '';
    try {
      const messages = chatMessages(this.history, question, this.openFile());
      const events = await this.state.api.chat({ model, messages }, controller.signal);
      for await (const event of events) {
        if (event.type === 'delta') {
          text += event.text;
          answer.textContent = text;
          this.log.scrollTop = this.log.scrollHeight;
        } else if (event.type === 'error') {
          this.bubble('error', event.message);
        }
      }
      this.history.push({ role: 'user', content: question }, { role: 'assistant', content: text });
    } catch (error) {
      this.bubble('error', await messageOf(error));
    } finally {
      if (!text) {
        answer.remove();
      }
      answer.dataset.streaming = 'false';
      this.controller = null;
      this.render();
      // Usage and quota warnings changed: the status bar reads them again.
      void this.state.refresh();
    }
  }
}
