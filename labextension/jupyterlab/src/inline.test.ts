import { describe, expect, it } from 'vitest';
import type { CompletionHandler, IInlineCompletionContext } from '@jupyterlab/completer';
import type { IdeApi, Policy } from './api';
import { IdeInlineProvider } from './inline';
import type { ChatRequest } from './prompts';
import type { AIState } from './state';

function setup(mode: Policy['mode'], answer: () => Promise<string>) {
  const asked: ChatRequest[] = [];
  const api = {
    complete: (request: ChatRequest) => {
      asked.push(request);
      return answer();
    },
  } as unknown as IdeApi;
  const state = {
    api,
    model: 'echo',
    unavailable: null,
    policy: { course: 'cs1', courses: ['cs1'], mode, reason: null },
  } as unknown as AIState;
  return { provider: new IdeInlineProvider(state), asked };
}

const context = {
  widget: { context: { path: 'src/a.py' } },
  triggerKind: 1,
} as unknown as IInlineCompletionContext;

function request(text: string, offset = text.length): CompletionHandler.IRequest {
  return { text, offset, mimeType: 'text/x-python' } as CompletionHandler.IRequest;
}

describe('inline provider', () => {
  it('asks the proxy with the path and the text around the cursor', async () => {
    const { provider, asked } = setup('full', async () => '```python\nx = 1\n```');
    const list = await provider.fetch(request('import os\nx = \nprint(x)', 14), context);
    expect(list.items).toEqual([{ insertText: '1' }]);
    expect(asked).toHaveLength(1);
    expect(asked[0]?.messages[1]?.content).toBe('src/a.py:\nimport os\nx = <CURSOR>\nprint(x)');
  });

  it('asks nothing where the course gives hints only, or the assistant is off', async () => {
    for (const mode of ['hint', 'off'] as const) {
      const { provider, asked } = setup(mode, async () => 'solution()');
      expect((await provider.fetch(request('def f():\n    '), context)).items).toEqual([]);
      expect(asked).toHaveLength(0);
    }
  });

  it('asks nothing on an empty prefix and shows nothing when the proxy refuses', async () => {
    const quiet = setup('full', async () => 'x');
    expect((await quiet.provider.fetch(request('   '), context)).items).toEqual([]);
    expect(quiet.asked).toHaveLength(0);
    const refused = setup('full', () => Promise.reject(new Error('429 quota')));
    expect((await refused.provider.fetch(request('x = '), context)).items).toEqual([]);
    expect(refused.asked).toHaveLength(1);
  });
});
