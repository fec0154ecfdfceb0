/** A notebook document (nbformat 4) and the edits the notebook view makes to it. */
import type { Output } from './outputs';
import { joinText } from './outputs';

export type CellType = 'code' | 'markdown' | 'raw';

export interface Cell {
  id: string;
  cell_type: CellType;
  source: string;
  metadata: Record<string, unknown>;
  outputs: Output[];
  execution_count: number | null;
}

export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

let counter = 0;

/** Return a fresh cell id (nbformat 4.5 wants one per cell). */
export function newCellId(): string {
  counter += 1;
  const random = Math.random().toString(36).slice(2, 10);
  return `${random}${counter.toString(36)}`;
}

/** Return an empty cell of a type. */
export function newCell(cellType: CellType = 'code', source = ''): Cell {
  return {
    id: newCellId(),
    cell_type: cellType,
    source,
    metadata: {},
    outputs: [],
    execution_count: null,
  };
}

/** Return an empty notebook for a kernel. */
export function emptyNotebook(kernelName?: string, displayName?: string): Notebook {
  const metadata: Record<string, unknown> = {};
  if (kernelName) {
    metadata.kernelspec = { name: kernelName, display_name: displayName ?? kernelName };
  }
  return { cells: [newCell()], metadata, nbformat: 4, nbformat_minor: 5 };
}

/** Read a notebook from the contents API's JSON, tolerating older minor versions. */
export function fromJSON(content: unknown): Notebook {
  const raw = (content ?? {}) as Record<string, unknown>;
  const rawCells = Array.isArray(raw.cells) ? (raw.cells as Record<string, unknown>[]) : [];
  const cells = rawCells.map((c): Cell => {
    const cellType: CellType =
      c.cell_type === 'markdown' || c.cell_type === 'raw' ? c.cell_type : 'code';
    return {
      id: typeof c.id === 'string' && c.id ? c.id : newCellId(),
      cell_type: cellType,
      source: joinText(c.source),
      metadata: (c.metadata as Record<string, unknown>) ?? {},
      outputs: cellType === 'code' && Array.isArray(c.outputs) ? (c.outputs as Output[]) : [],
      execution_count: typeof c.execution_count === 'number' ? c.execution_count : null,
    };
  });
  return {
    cells: cells.length ? cells : [newCell()],
    metadata: (raw.metadata as Record<string, unknown>) ?? {},
    nbformat: 4,
    nbformat_minor: Math.max(Number(raw.nbformat_minor ?? 5), 5),
  };
}

/** Write a notebook as nbformat 4 JSON (markdown and raw cells carry no outputs). */
export function toJSON(notebook: Notebook): Record<string, unknown> {
  return {
    nbformat: 4,
    nbformat_minor: notebook.nbformat_minor,
    metadata: notebook.metadata,
    cells: notebook.cells.map((cell) => {
      const base = {
        id: cell.id,
        cell_type: cell.cell_type,
        source: cell.source,
        metadata: cell.metadata,
      };
      if (cell.cell_type !== 'code') {
        return base;
      }
      return { ...base, outputs: cell.outputs, execution_count: cell.execution_count };
    }),
  };
}

/** Replace one cell (by id) with the result of ``update``. */
export function updateCell(notebook: Notebook, id: string, update: (cell: Cell) => Cell): Notebook {
  return { ...notebook, cells: notebook.cells.map((c) => (c.id === id ? update(c) : c)) };
}

/** Insert a new cell after the cell ``afterId`` (at the end when not found). */
export function insertAfter(notebook: Notebook, afterId: string | null, cell: Cell): Notebook {
  const index = notebook.cells.findIndex((c) => c.id === afterId);
  const cells = [...notebook.cells];
  cells.splice(index < 0 ? cells.length : index + 1, 0, cell);
  return { ...notebook, cells };
}

/** Remove a cell; a notebook always keeps at least one. */
export function removeCell(notebook: Notebook, id: string): Notebook {
  const cells = notebook.cells.filter((c) => c.id !== id);
  return { ...notebook, cells: cells.length ? cells : [newCell()] };
}

/** Move a cell up (-1) or down (+1). */
export function moveCell(notebook: Notebook, id: string, delta: -1 | 1): Notebook {
  const index = notebook.cells.findIndex((c) => c.id === id);
  const target = index + delta;
  if (index < 0 || target < 0 || target >= notebook.cells.length) {
    return notebook;
  }
  const cells = [...notebook.cells];
  const [moved] = cells.splice(index, 1);
  if (moved) {
    cells.splice(target, 0, moved);
  }
  return { ...notebook, cells };
}

/** Change a cell's type, dropping outputs that only code cells have. */
export function setCellType(notebook: Notebook, id: string, cellType: CellType): Notebook {
  return updateCell(notebook, id, (c) => ({
    ...c,
    cell_type: cellType,
    outputs: cellType === 'code' ? c.outputs : [],
    execution_count: cellType === 'code' ? c.execution_count : null,
  }));
}

/** The kernel a notebook was last saved with, as nbformat records it. */
export interface KernelMetadata {
  /** The kernelspec's name, display name and language. */
  kernelspec: { name: string; display_name: string; language?: string };
  /** ``language_info`` of the kernel's kernel_info_reply, when it answered. */
  languageInfo: Record<string, unknown> | null;
}

/**
 * Return the notebook with ``metadata.kernelspec`` and ``metadata.language_info`` from the
 * running kernel, as Jupyter frontends write them on save; unchanged when they already match.
 */
export function withKernelMetadata(notebook: Notebook, kernel: KernelMetadata): Notebook {
  const spec = Object.fromEntries(
    Object.entries(kernel.kernelspec).filter(([, value]) => value !== undefined && value !== ''),
  );
  const metadata: Record<string, unknown> = { ...notebook.metadata, kernelspec: spec };
  if (kernel.languageInfo) {
    metadata.language_info = kernel.languageInfo;
  }
  const same =
    JSON.stringify(metadata.kernelspec) === JSON.stringify(notebook.metadata.kernelspec) &&
    JSON.stringify(metadata.language_info) === JSON.stringify(notebook.metadata.language_info);
  return same ? notebook : { ...notebook, metadata };
}
