import { describe, expect, it } from 'vitest';
import { buildVirtual, fromVirtual, rangeFromVirtual, toVirtual } from './notebookDoc';

const CELLS = [
  { id: 'a', source: 'import os\nx = 1' },
  { id: 'b', source: 'def f():\n    return x' },
  { id: 'c', source: '%matplotlib inline\nf()' },
];

describe('buildVirtual', () => {
  it('joins the cells with two blank lines and records where each starts', () => {
    const doc = buildVirtual(CELLS);
    expect(doc.text.split('\n')).toEqual([
      'import os',
      'x = 1',
      '',
      '',
      'def f():',
      '    return x',
      '',
      '',
      '#matplotlib inline',
      'f()',
      '',
    ]);
    expect(doc.spans).toEqual([
      { id: 'a', start: 0, lines: 2 },
      { id: 'b', start: 4, lines: 2 },
      { id: 'c', start: 8, lines: 2 },
    ]);
  });

  it('masks IPython lines only for Python, keeping their length', () => {
    const cells = [{ id: 'a', source: '  !ls -l\nos.path?' }];
    expect(buildVirtual(cells).text).toBe('  #ls -l\n#s.path?\n');
    expect(buildVirtual(cells, 'javascript').text).toBe('  !ls -l\nos.path?\n');
  });

  it('is empty for no cells', () => {
    expect(buildVirtual([])).toEqual({ text: '', spans: [] });
  });
});

describe('position mapping', () => {
  const doc = buildVirtual(CELLS);

  it('maps every cell position there and back', () => {
    for (const cell of CELLS) {
      cell.source.split('\n').forEach((text, line) => {
        for (let character = 0; character <= text.length; character++) {
          const virtual = toVirtual(doc, { id: cell.id, line, character });
          if (!virtual) {
            throw new Error(`no virtual position for ${cell.id}:${line}:${character}`);
          }
          expect(fromVirtual(doc, virtual)).toEqual({ id: cell.id, line, character });
          // The virtual text holds the same characters at that place (masked lines aside).
          if (cell.id !== 'c' || line > 0) {
            expect(doc.text.split('\n')[virtual.line]).toBe(text);
          }
        }
      });
    }
  });

  it('gives null for the gaps, unknown cells and lines past a cell', () => {
    expect(fromVirtual(doc, { line: 2, character: 0 })).toBeNull();
    expect(fromVirtual(doc, { line: 99, character: 0 })).toBeNull();
    expect(toVirtual(doc, { id: 'zz', line: 0, character: 0 })).toBeNull();
    expect(toVirtual(doc, { id: 'a', line: 2, character: 0 })).toBeNull();
  });

  it('maps ranges inside one cell, and refuses ranges across cells', () => {
    expect(
      rangeFromVirtual(doc, { start: { line: 4, character: 4 }, end: { line: 4, character: 5 } }),
    ).toEqual({
      id: 'b',
      start: { id: 'b', line: 0, character: 4 },
      end: { id: 'b', line: 0, character: 5 },
    });
    expect(
      rangeFromVirtual(doc, { start: { line: 0, character: 0 }, end: { line: 5, character: 0 } }),
    ).toBeNull();
    const tail = rangeFromVirtual(doc, {
      start: { line: 5, character: 0 },
      end: { line: 6, character: 0 },
    });
    expect(tail?.id).toBe('b');
    expect(tail?.end.line).toBe(1);
  });
});
