import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  CELLS,
  ERROR,
  STATE,
  cellText,
  readNotebook,
  safeOutput,
  setText,
  writeNotebook,
} from './liveNotebook';
import { newCell, type Cell, type Notebook } from './notebook';

function notebook(...sources: string[]): Notebook {
  return {
    cells: sources.map((s, i) => ({ ...newCell('code', s), id: `c${i}` })),
    metadata: { kernelspec: { name: 'python3' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** Send every update of ``from`` to ``to``, as the room relays them. */
function relay(from: Y.Doc, to: Y.Doc): void {
  from.on('update', (update: Uint8Array) => Y.applyUpdate(to, update, 'remote'));
}

describe('a live notebook document', () => {
  it('carries the editor’s cells, edits, moves, types and outputs to another peer', () => {
    const student = new Y.Doc();
    const viewer = new Y.Doc();
    relay(student, viewer);
    let nb = notebook('a = 1', 'b = 2');
    writeNotebook(student, nb, 'local');
    expect(readNotebook(viewer).cells.map((c) => c.source)).toEqual(['a = 1', 'b = 2']);
    expect(viewer.getMap('meta').get('nbformat')).toBe(4);
    expect(readNotebook(viewer).language).toBe('');
    writeNotebook(student, { ...nb, metadata: { language_info: { name: 'c++' } } }, 'local');
    expect(readNotebook(viewer).language).toBe('c++');

    const before = cellText(student, 'c0');
    const [c0, c1] = nb.cells as [Cell, Cell];
    const c0edited = { ...c0, source: 'a = 10' };
    nb = { ...nb, cells: [c0edited, c1] };
    writeNotebook(student, nb, 'local');
    expect(cellText(student, 'c0')).toBe(before); // edited in place, not replaced
    nb = {
      ...nb,
      cells: [
        c1,
        { ...newCell('markdown', '# new'), id: 'm' },
        {
          ...c0edited,
          outputs: [{ output_type: 'stream', name: 'stdout', text: '10\n' }],
          execution_count: 4,
        },
      ],
    };
    writeNotebook(student, nb, 'local');
    const shown = readNotebook(viewer);
    expect(shown.cells.map((c) => [c.id, c.cell_type, c.source])).toEqual([
      ['c1', 'code', 'b = 2'],
      ['m', 'markdown', '# new'],
      ['c0', 'code', 'a = 10'],
    ]);
    expect(shown.cells[2]?.outputs).toEqual([
      { output_type: 'stream', name: 'stdout', text: '10\n' },
    ]);
    expect(shown.cells[2]?.execution_count).toBe(4);
    writeNotebook(student, { ...nb, cells: nb.cells.slice(2) }, 'local');
    expect(readNotebook(viewer).cells.map((c) => c.id)).toEqual(['c0']);
  });

  it('writes nothing when the document already holds the notebook', () => {
    const doc = new Y.Doc();
    const nb = notebook('x');
    writeNotebook(doc, nb, 'local');
    let updates = 0;
    doc.on('update', () => updates++);
    writeNotebook(doc, { ...nb, cells: nb.cells.map((c) => ({ ...c, outputs: [] })) }, 'local');
    expect(updates).toBe(0);
  });

  it('reads a layout a writer broke without throwing, and an error the server set', () => {
    const doc = new Y.Doc();
    const cells = doc.getArray<unknown>(CELLS);
    const noSource = new Y.Map<unknown>();
    noSource.set('id', 'x');
    noSource.set('cell_type', 'code');
    const odd = new Y.Map<unknown>();
    odd.set('cell_type', 'bogus');
    odd.set('source', 42);
    odd.set('outputs', [
      'junk',
      { output_type: 'nope' },
      { output_type: 'stream', text: ['a', 'b'] },
    ]);
    const duplicate = new Y.Map<unknown>();
    duplicate.set('id', 'x');
    cells.push(['not a cell', noSource, odd, duplicate]);
    doc.getMap(STATE).set(ERROR, 'The saved notebook cannot be shown: it is not valid JSON');
    const shown = readNotebook(doc);
    expect(shown.cells.map((c) => [c.cell_type, c.source, c.outputs.length])).toEqual([
      ['code', '', 0],
      ['raw', '', 1],
    ]);
    expect(shown.cells[1]?.outputs[0]).toEqual({
      output_type: 'stream',
      name: 'stdout',
      text: 'ab',
    });
    expect(shown.error).toContain('not valid JSON');
    // The editor's next write drops what is not a cell of its notebook.
    writeNotebook(doc, notebook('ok'), 'local');
    expect(readNotebook(doc).cells.map((c) => c.source)).toEqual(['ok']);
  });

  it('leaves the text of a cell an editor is bound to to that binding', () => {
    const doc = new Y.Doc();
    const nb = notebook('x = 1');
    writeNotebook(doc, nb, 'local');
    cellText(doc, 'c0')?.insert(5, '2'); // the binding wrote a keystroke the notebook lacks yet
    writeNotebook(doc, nb, 'local', (id) => id === 'c0');
    expect(cellText(doc, 'c0')?.toString()).toBe('x = 12');
    writeNotebook(doc, nb, 'local');
    expect(cellText(doc, 'c0')?.toString()).toBe('x = 1');
  });

  it('changes a text by its middle only', () => {
    const doc = new Y.Doc();
    const text = doc.getText('t');
    text.insert(0, 'hello world');
    const deltas: unknown[] = [];
    text.observe((e) => deltas.push(e.delta));
    setText(text, 'hello brave world');
    expect(text.toString()).toBe('hello brave world');
    expect(deltas).toEqual([[{ retain: 6 }, { insert: 'brave ' }]]);
  });

  it('keeps only outputs it can show', () => {
    expect(
      safeOutput({ output_type: 'error', ename: 'E', evalue: 1, traceback: ['t', 2] }),
    ).toEqual({
      output_type: 'error',
      ename: 'E',
      evalue: '',
      traceback: ['t'],
    });
    expect(safeOutput({ output_type: 'display_data', data: [] })).toEqual({
      output_type: 'display_data',
      data: {},
      metadata: {},
    });
    expect(safeOutput(null)).toBeNull();
  });
});
