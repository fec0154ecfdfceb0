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
} from './notebook';

describe('notebook documents', () => {
  it('round-trips nbformat JSON, joining multiline sources', () => {
    const nb = fromJSON({
      nbformat: 4,
      nbformat_minor: 4,
      metadata: { kernelspec: { name: 'python3' } },
      cells: [
        {
          cell_type: 'code',
          source: ['a = 1\n', 'a'],
          metadata: {},
          outputs: [],
          execution_count: 2,
        },
        { cell_type: 'markdown', source: '# T', metadata: {} },
      ],
    });
    expect(nb.cells[0]?.source).toBe('a = 1\na');
    expect(nb.cells[0]?.id).toBeTruthy();
    const json = toJSON(nb) as { nbformat_minor: number; cells: Record<string, unknown>[] };
    expect(json.nbformat_minor).toBe(5);
    expect(json.cells[0]).toMatchObject({ execution_count: 2, outputs: [] });
    expect(json.cells[1]).not.toHaveProperty('outputs');
  });
  it('never leaves a notebook without cells', () => {
    const nb = emptyNotebook('python3');
    const only = nb.cells[0];
    expect(only).toBeDefined();
    expect(removeCell(nb, only?.id ?? '').cells).toHaveLength(1);
    expect(fromJSON({ cells: [] }).cells).toHaveLength(1);
  });
  it('inserts, moves and retypes cells', () => {
    let nb = emptyNotebook();
    const firstId = nb.cells[0]?.id ?? '';
    const second = newCell('code', 'x');
    nb = insertAfter(nb, firstId, second);
    expect(nb.cells.map((c) => c.id)).toEqual([firstId, second.id]);
    nb = moveCell(nb, second.id, -1);
    expect(nb.cells[0]?.id).toBe(second.id);
    expect(moveCell(nb, second.id, -1)).toBe(nb);
    nb = setCellType(nb, second.id, 'markdown');
    expect(nb.cells[0]?.cell_type).toBe('markdown');
    expect(nb.cells[0]?.execution_count).toBeNull();
  });
});
