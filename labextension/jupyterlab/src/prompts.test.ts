import { describe, expect, it } from 'vitest';
import { languageOf } from './languages';
import {
  chatAllowed,
  chatMessages,
  cleanCompletion,
  completionRequest,
  completionsAllowed,
} from './prompts';
import { chatEvents, EventSplitter } from './sse';

describe('completions', () => {
  it('asks for the text at the cursor with the file around it', () => {
    const request = completionRequest('echo', 'a.py', 'def f(x):\n    return ', '\n\nprint(1)');
    expect(request.model).toBe('echo');
    expect(request.temperature).toBe(0);
    expect(request.messages[1]?.content).toBe('a.py:\ndef f(x):\n    return <CURSOR>\n\nprint(1)');
  });

  it('drops fences and the repeat of what was typed', () => {
    expect(cleanCompletion('```python\nreturn x + 1\n```', '    return')).toBe(' x + 1');
    expect(cleanCompletion('x * 2  \n', 'y = ')).toBe('x * 2');
  });

  it('follows the policy: code completions only in full mode, the chat unless off', () => {
    expect(completionsAllowed('full')).toBe(true);
    expect(completionsAllowed('hint')).toBe(false);
    expect(completionsAllowed('off')).toBe(false);
    expect(completionsAllowed(null)).toBe(false);
    expect(chatAllowed('hint')).toBe(true);
    expect(chatAllowed('off')).toBe(false);
  });
});

describe('chat', () => {
  it('puts the open file in the system message and keeps the recent turns', () => {
    const history = Array.from({ length: 30 }, (_, i) => ({
      role: (i % 2 ? 'assistant' : 'user') as 'user' | 'assistant',
      content: `m${i}`,
    }));
    const messages = chatMessages(history, 'why?', { path: 'x.c', text: 'int main(){}' });
    expect(messages[0]?.role).toBe('system');
    expect(messages[0]?.content).toContain('x.c');
    expect(messages[0]?.content).toContain('int main(){}');
    expect(messages).toHaveLength(14);
    expect(messages[1]?.content).toBe('m18');
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'why?' });
  });

  it('splits server-sent events across pieces and reads their deltas', () => {
    const splitter = new EventSplitter();
    expect(splitter.push('data: {"choices":[{"delta":{"content":"he')).toEqual([]);
    const events = splitter.push('llo"}}]}\n\n: keep-alive\n\ndata: [DONE]\r\n\r\n');
    expect(events).toEqual(['{"choices":[{"delta":{"content":"hello"}}]}', '[DONE]']);
    expect(chatEvents(events[0] ?? '')).toEqual([{ type: 'delta', text: 'hello' }]);
    expect(chatEvents('[DONE]')).toEqual([{ type: 'done' }]);
    expect(chatEvents('{"error":{"message":"quota"}}')).toEqual([
      { type: 'error', message: 'quota' },
    ]);
    expect(chatEvents('not json')[0]?.type).toBe('error');
  });
});

describe('languages', () => {
  it('knows the eight languages by extension and nothing else', () => {
    expect(languageOf('dir/hello.py')).toEqual({ id: 71, name: 'Python' });
    expect(languageOf('a.CPP')?.id).toBe(54);
    expect(languageOf('Main.java')?.id).toBe(62);
    expect(languageOf('x.rs')?.id).toBe(73);
    expect(languageOf('run.sh')?.id).toBe(46);
    expect(languageOf('notes.md')).toBeNull();
    expect(languageOf('.py')).toBeNull();
    expect(languageOf('Makefile')).toBeNull();
  });
});
