// @vitest-environment jsdom
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatPanel as ChatPanelType } from './chat';
import type { Policy } from './api';
import type { ChatEvent } from './sse';
import type { AIState } from './state';

let ChatPanel: typeof ChatPanelType;

beforeAll(async () => {
  // jsdom has no DragEvent, which Lumino's drag-and-drop extends when it loads.
  const g = globalThis as unknown as Record<string, unknown>;
  g.DragEvent ??= class extends MouseEvent {};
  ({ ChatPanel } = await import('./chat'));
});

function fakeState(policy: Policy, answer: string[] = []) {
  const listeners: (() => void)[] = [];
  const asked: unknown[] = [];
  const state = {
    policy,
    models: ['echo', 'other'],
    model: 'echo',
    unavailable: null as string | null,
    api: {
      course: policy.course,
      chat: async (request: unknown) => {
        asked.push(request);
        return (async function* (): AsyncGenerator<ChatEvent> {
          for (const text of answer) {
            yield { type: 'delta', text };
          }
          yield { type: 'done' };
        })();
      },
    },
    changed: {
      connect: (fn: () => void, self: unknown) => listeners.push(fn.bind(self)),
      disconnect: () => undefined,
    },
    setCourse: vi.fn(async () => undefined),
    setModel: vi.fn(),
    refresh: vi.fn(async () => undefined),
  };
  return { state: state as unknown as AIState, asked, fake: state };
}

const byId = (panel: ChatPanelType, id: string): HTMLElement =>
  panel.node.querySelector(`[data-testid="${id}"]`) as HTMLElement;

describe('chat panel', () => {
  it('offers the course picker to a member of several courses and says hint-only', () => {
    const { state, fake } = fakeState({
      course: 'cs1',
      courses: ['cs1', 'cs2'],
      mode: 'hint',
      reason: null,
    });
    const panel = new ChatPanel(state, () => null);
    const picker = byId(panel, 'ide-chat-course') as HTMLSelectElement;
    expect(picker.parentElement?.hidden).toBe(false);
    expect([...picker.options].map((o) => o.value)).toEqual(['', 'cs1', 'cs2']);
    expect(picker.value).toBe('cs1');
    expect(byId(panel, 'ide-chat-notice').textContent).toContain('Hints only in cs1');
    expect((byId(panel, 'ide-chat-input') as HTMLTextAreaElement).disabled).toBe(false);
    picker.value = 'cs2';
    picker.dispatchEvent(new Event('change'));
    expect(fake.setCourse).toHaveBeenCalledWith('cs2');
  });

  it('hides the picker for one course and closes the chat where the course turned AI off', () => {
    const { state } = fakeState({ course: 'exam', courses: ['exam'], mode: 'off', reason: 'exam' });
    const panel = new ChatPanel(state, () => null);
    expect(byId(panel, 'ide-chat-course').parentElement?.hidden).toBe(true);
    expect(byId(panel, 'ide-chat-notice').textContent).toBe(
      'The AI assistant is off in exam: exam.',
    );
    expect((byId(panel, 'ide-chat-input') as HTMLTextAreaElement).disabled).toBe(true);
  });

  it('streams an answer in with the open file as context', async () => {
    const { state, asked } = fakeState({ course: null, courses: [], mode: 'full', reason: null }, [
      'he',
      'llo',
    ]);
    const panel = new ChatPanel(state, () => ({ path: 'a.py', text: 'print(1)' }));
    expect(byId(panel, 'ide-chat-notice').hidden).toBe(true);
    await panel.ask('hi?');
    const answer = byId(panel, 'ide-chat-assistant');
    expect(answer.textContent).toBe('hello');
    expect(answer.dataset.streaming).toBe('false');
    const request = asked[0] as { model: string; messages: { content: string }[] };
    expect(request.model).toBe('echo');
    expect(request.messages[0]?.content).toContain('a.py');
    expect(request.messages.at(-1)?.content).toBe('hi?');
  });
});
