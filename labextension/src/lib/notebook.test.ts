import { describe, expect, it } from 'vitest';
import {
  emptyNotebook,
  fromJSON,
  insertAfter,
  moveCell,
  newCell,
  removeCell,
  setCellType,
  toJSON,
  updateCell,
  withKernelMetadata,
  type Notebook,
} from './notebook';

function notebookOf(...sources: string[]): Notebook {
  return {
    cells: sources.map((s) => newCell('code', s)),
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  };
}

const sources = (nb: Notebook) => nb.cells.map((c) => c.source);

describe('reading and writing nbformat 4', () => {
  it('reads cells, joining multiline sources and keeping outputs of code cells', () => {
    const nb = fromJSON({
      nbformat: 4,
      nbformat_minor: 4,
      metadata: { kernelspec: { name: 'python3' } },
      cells: [
        {
          cell_type: 'code',
          source: ['print(1)\n', 'print(2)'],
          metadata: {},
          execution_count: 7,
          outputs: [{ output_type: 'stream', name: 'stdout', text: ['1\n', '2\n'] }],
        },
        { cell_type: 'markdown', source: '# Title', metadata: {} },
      ],
    });
    expect(sources(nb)).toEqual(['print(1)\nprint(2)', '# Title']);
    expect(nb.cells[0]?.execution_count).toBe(7);
    expect(nb.cells[0]?.outputs).toHaveLength(1);
    expect(nb.cells[1]?.cell_type).toBe('markdown');
    expect(nb.nbformat_minor).toBe(5);
    expect(nb.cells.every((c) => c.id.length > 0)).toBe(true);
    expect(new Set(nb.cells.map((c) => c.id)).size).toBe(2);
  });

  it('gives an empty notebook one cell', () => {
    expect(fromJSON({ cells: [] }).cells).toHaveLength(1);
    expect(fromJSON(null).cells).toHaveLength(1);
  });

  it('writes code cells with outputs and counts, other cells without', () => {
    const nb = setCellType(notebookOf('x = 1', '*hi*'), notebookOf().cells[0]?.id ?? '', 'code');
    const second = nb.cells[1]?.id ?? '';
    const json = toJSON(setCellType(nb, second, 'markdown')) as {
      nbformat: number;
      nbformat_minor: number;
      cells: Record<string, unknown>[];
    };
    expect(json.nbformat).toBe(4);
    expect(json.nbformat_minor).toBe(5);
    expect(json.cells[0]).toMatchObject({
      cell_type: 'code',
      source: 'x = 1',
      outputs: [],
      execution_count: null,
    });
    expect(json.cells[1]).toMatchObject({ cell_type: 'markdown', source: '*hi*' });
    expect(json.cells[1]).not.toHaveProperty('outputs');
    expect(json.cells[1]).not.toHaveProperty('execution_count');
  });

  it('round-trips', () => {
    const nb = notebookOf('a', 'b');
    expect(fromJSON(JSON.parse(JSON.stringify(toJSON(nb))))).toEqual(nb);
  });

  it('records the kernel of a new notebook', () => {
    expect(emptyNotebook('python3', 'Python 3').metadata.kernelspec).toEqual({
      name: 'python3',
      display_name: 'Python 3',
    });
    expect(emptyNotebook().metadata).toEqual({});
  });
});

describe('editing', () => {
  it('inserts after a cell, or at the end', () => {
    const nb = notebookOf('a', 'c');
    const first = nb.cells[0]?.id ?? '';
    expect(sources(insertAfter(nb, first, newCell('code', 'b')))).toEqual(['a', 'b', 'c']);
    expect(sources(insertAfter(nb, null, newCell('code', 'd')))).toEqual(['a', 'c', 'd']);
  });

  it('removes cells but always keeps one', () => {
    const nb = notebookOf('a', 'b');
    const [a, b] = nb.cells;
    const one = removeCell(nb, a?.id ?? '');
    expect(sources(one)).toEqual(['b']);
    const none = removeCell(one, b?.id ?? '');
    expect(none.cells).toHaveLength(1);
    expect(none.cells[0]?.source).toBe('');
  });

  it('moves cells up and down, and not past the ends', () => {
    const nb = notebookOf('a', 'b', 'c');
    const [a, , c] = nb.cells;
    expect(sources(moveCell(nb, c?.id ?? '', -1))).toEqual(['a', 'c', 'b']);
    expect(sources(moveCell(nb, a?.id ?? '', 1))).toEqual(['b', 'a', 'c']);
    expect(moveCell(nb, a?.id ?? '', -1)).toBe(nb);
    expect(moveCell(nb, c?.id ?? '', 1)).toBe(nb);
    expect(moveCell(nb, 'missing', 1)).toBe(nb);
  });

  it('drops outputs and counts when a code cell becomes markdown', () => {
    let nb = notebookOf('print(1)');
    const id = nb.cells[0]?.id ?? '';
    nb = updateCell(nb, id, (c) => ({
      ...c,
      execution_count: 1,
      outputs: [{ output_type: 'stream', name: 'stdout', text: '1\n' }],
    }));
    const md = setCellType(nb, id, 'markdown');
    expect(md.cells[0]).toMatchObject({
      cell_type: 'markdown',
      outputs: [],
      execution_count: null,
    });
    expect(md.cells[0]?.source).toBe('print(1)');
  });

  it('never changes the notebook it was given', () => {
    const nb = notebookOf('a');
    const before = JSON.stringify(nb);
    const id = nb.cells[0]?.id ?? '';
    updateCell(nb, id, (c) => ({ ...c, source: 'changed' }));
    insertAfter(nb, id, newCell());
    removeCell(nb, id);
    setCellType(nb, id, 'raw');
    expect(JSON.stringify(nb)).toBe(before);
  });
});

describe('withKernelMetadata', () => {
  const info = {
    name: 'python',
    version: '3.11.2',
    mimetype: 'text/x-python',
    file_extension: '.py',
  };

  it('records the kernelspec and language_info of the running kernel', () => {
    const nb = emptyNotebook('ide-python', 'Python');
    const saved = withKernelMetadata(nb, {
      kernelspec: { name: 'ide-c', display_name: 'C (sandboxed)', language: 'c' },
      languageInfo: info,
    });
    expect(saved.metadata.kernelspec).toEqual({
      name: 'ide-c',
      display_name: 'C (sandboxed)',
      language: 'c',
    });
    expect(saved.metadata.language_info).toEqual(info);
    expect(saved.cells).toBe(nb.cells);
  });

  it('keeps other metadata and an older language_info when the kernel did not answer', () => {
    const nb = { ...emptyNotebook(), metadata: { language_info: info, authors: ['x'] } };
    const saved = withKernelMetadata(nb, {
      kernelspec: { name: 'ide-python', display_name: 'Python', language: undefined },
      languageInfo: null,
    });
    expect(saved.metadata).toEqual({
      language_info: info,
      authors: ['x'],
      kernelspec: { name: 'ide-python', display_name: 'Python' },
    });
  });

  it('returns the same notebook when nothing changes (no needless re-render)', () => {
    const kernel = {
      kernelspec: { name: 'ide-python', display_name: 'Python', language: 'python' },
      languageInfo: info,
    };
    const once = withKernelMetadata(emptyNotebook(), kernel);
    expect(withKernelMetadata(once, kernel)).toBe(once);
  });
});
