import { describe, expect, it } from 'vitest';
import {
  applyTextEdits,
  completionInsert,
  completionKindName,
  completionRange,
  editsByUri,
  toLspPosition,
  toLspRange,
  toMarkdown,
  toMarker,
  toMonacoRange,
} from './convert';

const range = (a: number, b: number, c: number, d: number) => ({
  start: { line: a, character: b },
  end: { line: c, character: d },
});

describe('positions and ranges', () => {
  it('shifts between 0-based LSP and 1-based Monaco, both ways', () => {
    expect(toLspPosition({ lineNumber: 1, column: 1 })).toEqual({ line: 0, character: 0 });
    const r = range(2, 3, 4, 5);
    expect(toMonacoRange(r)).toEqual({
      startLineNumber: 3,
      startColumn: 4,
      endLineNumber: 5,
      endColumn: 6,
    });
    expect(toLspRange(toMonacoRange(r))).toEqual(r);
  });
});

describe('toMarker', () => {
  it('maps severities and keeps message, source and code', () => {
    const m = toMarker({
      range: range(0, 0, 0, 3),
      severity: 2,
      message: 'unused',
      source: 'pyflakes',
      code: 401,
    });
    expect(m).toMatchObject({ severity: 4, message: 'unused', source: 'pyflakes', code: '401' });
    expect(toMarker({ range: range(0, 0, 0, 1), message: 'x' }).severity).toBe(8);
    expect(toMarker({ range: range(0, 0, 0, 1), message: 'x', severity: 4 }).severity).toBe(1);
  });

  it('widens an empty range so the squiggle shows', () => {
    expect(toMarker({ range: range(1, 4, 1, 4), message: 'x' }).endColumn).toBe(6);
  });
});

describe('completion', () => {
  it('names kinds as Monaco does, Text for unknown ones', () => {
    expect(completionKindName(3)).toBe('Function');
    expect(completionKindName(9)).toBe('Module');
    expect(completionKindName(99)).toBe('Text');
    expect(completionKindName(undefined)).toBe('Text');
  });

  it('prefers the text edit, then insertText, then the label', () => {
    expect(completionInsert({ label: 'path' })).toEqual({ text: 'path', snippet: false });
    expect(completionInsert({ label: 'f', insertText: 'f($1)', insertTextFormat: 2 })).toEqual({
      text: 'f($1)',
      snippet: true,
    });
    const edited = { label: 'p', textEdit: { range: range(0, 3, 0, 5), newText: 'path' } };
    expect(completionInsert(edited).text).toBe('path');
    expect(completionRange(edited)).toEqual(range(0, 3, 0, 5));
    const replace = {
      label: 'p',
      textEdit: { insert: range(0, 3, 0, 4), replace: range(0, 3, 0, 5), newText: 'path' },
    };
    expect(completionRange(replace)).toEqual(range(0, 3, 0, 5));
    expect(completionRange({ label: 'x' })).toBeNull();
  });
});

describe('toMarkdown', () => {
  it('reads every hover content form', () => {
    expect(toMarkdown('plain')).toEqual(['plain']);
    expect(toMarkdown({ kind: 'markdown', value: '**b**' })).toEqual(['**b**']);
    expect(toMarkdown({ kind: 'plaintext', value: 'a*b' })).toEqual(['```\na*b\n```']);
    expect(toMarkdown({ language: 'python', value: 'def f()' })).toEqual([
      '```python\ndef f()\n```',
    ]);
    expect(toMarkdown(['a', { language: 'c', value: 'int x' }])).toHaveLength(2);
    expect(toMarkdown(null)).toEqual([]);
    expect(toMarkdown({ kind: 'markdown', value: '  ' })).toEqual([]);
  });

  it('makes a fence longer than any backticks in the code', () => {
    expect(toMarkdown({ language: 'md', value: 'x ```` y' })[0]).toMatch(/^`{5}md\n/);
  });
});

describe('applyTextEdits', () => {
  it('applies edits from the end so earlier offsets stay right', () => {
    const text = 'def f():\n    pass\n\nf()\n';
    const out = applyTextEdits(text, [
      { range: range(0, 4, 0, 5), newText: 'go' },
      { range: range(3, 0, 3, 1), newText: 'go' },
    ]);
    expect(out).toBe('def go():\n    pass\n\ngo()\n');
  });

  it('clamps positions past a line or the text', () => {
    expect(applyTextEdits('ab\ncd', [{ range: range(0, 9, 0, 9), newText: '!' }])).toBe('ab!\ncd');
    expect(applyTextEdits('ab', [{ range: range(5, 0, 5, 0), newText: '\nz' }])).toBe('ab\nz');
  });
});

describe('editsByUri', () => {
  it('reads both forms of a workspace edit, per document', () => {
    const a = { range: range(0, 0, 0, 1), newText: 'x' };
    const b = { range: range(1, 0, 1, 1), newText: 'y' };
    const edits = editsByUri({
      changes: { 'file:///w/a.py': [a] },
      documentChanges: [
        { textDocument: { uri: 'file:///w/a.py', version: 3 }, edits: [b] },
        { textDocument: { uri: 'file:///w/b.py', version: null }, edits: [a] },
        { kind: 'create', uri: 'file:///w/new.py' },
      ],
    });
    expect([...edits.keys()]).toEqual(['file:///w/a.py', 'file:///w/b.py']);
    expect(edits.get('file:///w/a.py')).toEqual([a, b]);
  });
});
