import { describe, expect, it } from 'vitest';
import {
  chatMessages,
  cleanCompletion,
  clipError,
  completionRequest,
  excerpt,
  explainErrorQuestion,
  MAX_ERROR_CHARS,
  MAX_HISTORY_MESSAGES,
  policyNotice,
  policyText,
  systemPrompt,
  type EditorContext,
} from './aiContext';

const CONTEXT: EditorContext = {
  path: 'src/calc.py',
  language: 'python',
  content: 'def add(a, b):\n    return a - b\n',
  selection: 'return a - b',
  cursorLine: 2,
};

describe('systemPrompt', () => {
  it('names the file, shows it, the selection and the last error', () => {
    const prompt = systemPrompt(CONTEXT, '\u001b[31mNameError\u001b[0m: x');
    expect(prompt).toContain('src/calc.py open (python), cursor on line 2');
    expect(prompt).toContain('```python\ndef add(a, b):');
    expect(prompt).toContain('They selected:\n```python\nreturn a - b');
    expect(prompt).toContain('NameError: x');
    expect(prompt).not.toContain('\u001b');
  });

  it('says nothing of a file or an error it does not have', () => {
    const prompt = systemPrompt(null, null);
    expect(prompt).not.toContain('cursor');
    expect(prompt).not.toContain('last error');
    expect(systemPrompt({ ...CONTEXT, selection: '  ' }, '')).not.toContain('selected');
  });
});

describe('excerpt', () => {
  it('keeps a short file whole and a long one around the cursor', () => {
    expect(excerpt('abc', 10)).toBe('abc');
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`);
    const out = excerpt(lines.join('\n'), 200, 500);
    expect(out).toContain('line 500');
    expect(out).not.toContain('line 1\n');
    expect(out).toMatch(/^… \(\d+ lines above not shown\)/);
    expect(out).toMatch(/… \(\d+ lines below not shown\)$/);
    expect(out.length).toBeLessThan(300);
  });
});

describe('chatMessages', () => {
  it('puts the context first, then the recent turns, then the question as it was typed', () => {
    const history = Array.from({ length: 30 }, (_, i) => ({
      role: i % 2 ? ('assistant' as const) : ('user' as const),
      content: `m${i}`,
    }));
    const messages = chatMessages(history, 'Why?', CONTEXT, null);
    expect(messages[0]?.role).toBe('system');
    expect(messages).toHaveLength(MAX_HISTORY_MESSAGES + 2);
    expect(messages[1]?.content).toBe(`m${30 - MAX_HISTORY_MESSAGES}`);
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'Why?' });
  });
});

describe('errors', () => {
  it('keep the end of a long error and ask to explain it', () => {
    const long = 'x'.repeat(MAX_ERROR_CHARS * 2) + 'ZeroDivisionError';
    expect(clipError(long).endsWith('ZeroDivisionError')).toBe(true);
    expect(clipError(long).length).toBe(MAX_ERROR_CHARS + 1);
    expect(explainErrorQuestion('Boom')).toBe(
      'Explain this error and how I can fix it:\n\n```\nBoom\n```',
    );
  });
});

describe('inline completion', () => {
  it('asks for the text at the cursor, deterministically and briefly', () => {
    const request = completionRequest('m', 'a.py', 'python', 'x = 1\nprint(', ')\n');
    expect(request).toMatchObject({ model: 'm', temperature: 0, max_tokens: 128 });
    expect(request.messages.at(-1)?.content).toBe('a.py (python):\nx = 1\nprint(<CURSOR>)\n');
  });

  it('strips fences and a repeat of the typed line', () => {
    expect(cleanCompletion('```python\nreturn a + b\n```', '')).toBe('return a + b');
    expect(cleanCompletion('    return a + b', '    ret')).toBe('urn a + b');
    expect(cleanCompletion('total = 0\n\n', '')).toBe('total = 0');
    expect(cleanCompletion('x ', '')).toBe('x ');
  });
});

describe('policyText', () => {
  const hint = {
    course: 'cs101',
    courses: ['cs101'],
    mode: 'hint' as const,
    until: '2026-11-25T14:00:00+00:00',
    reason: 'Exam: Midterm (cs101)',
    models: [],
    strictestOf: [],
  };

  it('says hint-only mode and until when', () => {
    expect(policyText(hint, new Date(), () => '14:00')).toBe(
      'AI is in hint-only mode until 14:00 (Exam: Midterm (cs101))',
    );
    expect(policyText({ ...hint, mode: 'off', until: null, reason: null })).toBe('AI is off');
  });

  it('says nothing when the assistant is fully on or the server has no policy', () => {
    expect(policyText({ ...hint, mode: 'full' })).toBeNull();
    expect(policyText(null)).toBeNull();
  });

  it('formats the time locally, with the date when it is not today', () => {
    const now = new Date('2026-11-25T10:00:00');
    const today = policyText({ ...hint, reason: null, until: '2026-11-25T14:05:00' }, now);
    expect(today).toMatch(/until \D*\d{1,2}[:.]05/);
    const later = policyText({ ...hint, reason: null, until: '2026-12-01T09:00:00' }, now);
    expect(later).toMatch(/Dec|12/);
  });
});

describe('policyNotice', () => {
  const policy = {
    course: null,
    courses: ['cs-full', 'cs-hint'],
    mode: 'hint' as const,
    until: null,
    reason: 'Course policy of cs-hint',
    models: [],
    strictestOf: ['cs-full', 'cs-hint'],
  };

  it('names the courses combined when none is chosen', () => {
    expect(policyNotice(policy)).toEqual({
      text: 'AI is in hint-only mode (Course policy of cs-hint)',
      strictest: 'Strictest of your courses: cs-full, cs-hint',
      limited: true,
    });
    expect(policyNotice({ ...policy, mode: 'full', reason: null })).toEqual({
      text: 'AI is in full mode',
      strictest: 'Strictest of your courses: cs-full, cs-hint',
      limited: false,
    });
  });

  it('says full mode for the course chosen among several', () => {
    const chosen = { ...policy, course: 'cs-full', mode: 'full' as const, strictestOf: [] };
    expect(policyNotice({ ...chosen, reason: null })).toEqual({
      text: 'AI is in full mode for cs-full',
      strictest: null,
      limited: false,
    });
    const hinted = { ...chosen, course: 'cs-hint', mode: 'hint' as const };
    expect(policyNotice(hinted)?.text).toBe('AI is in hint-only mode (Course policy of cs-hint)');
    expect(policyNotice(hinted)?.strictest).toBeNull();
  });

  it('stays quiet with one course fully on, or no policy', () => {
    const one = { ...policy, course: 'cs-full', courses: ['cs-full'], strictestOf: [] };
    expect(policyNotice({ ...one, mode: 'full', reason: null })).toBeNull();
    expect(policyNotice({ ...one, course: null, courses: [], mode: 'full' })).toBeNull();
    expect(policyNotice(null)).toBeNull();
  });
});
