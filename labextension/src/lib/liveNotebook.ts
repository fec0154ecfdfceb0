/**
 * A notebook in a live room's document, in jupyter_ydoc's YNotebook layout: a Y.Array "cells" of
 * Y.Maps (id, cell_type, a Y.Text source, metadata, outputs, execution_count), a Y.Map "meta",
 * a Y.Map "state" (the server names a saved notebook it cannot show under "error").
 */
import * as Y from 'yjs';
import type { Cell, CellType, Notebook } from './notebook';
import type { Output } from './outputs';

export const CELLS = 'cells';
export const META = 'meta';
export const STATE = 'state';
export const ERROR = 'error';

/** What a notebook room shows: its cells, or why the saved notebook is not shown. */
export interface LiveNotebook {
  cells: Cell[];
  error: string | null;
  /** The kernel's language as the notebook's metadata names it ("" when it does not). */
  language: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function plain(value: unknown): unknown {
  return value instanceof Y.AbstractType ? (value.toJSON() as unknown) : value;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function text(value: unknown): string {
  if (Array.isArray(value)) {
    return strings(value).join('');
  }
  return typeof value === 'string' ? value : '';
}

/** An output as the notebook view renders it, or null when it is not one (a writer's junk). */
export function safeOutput(value: unknown): Output | null {
  const raw = plain(value);
  if (!isObject(raw)) {
    return null;
  }
  switch (raw.output_type) {
    case 'stream':
      return {
        output_type: 'stream',
        name: raw.name === 'stderr' ? 'stderr' : 'stdout',
        text: text(raw.text),
      };
    case 'error':
      return {
        output_type: 'error',
        ename: text(raw.ename),
        evalue: text(raw.evalue),
        traceback: strings(raw.traceback),
      };
    case 'execute_result':
    case 'display_data':
      return {
        output_type: raw.output_type,
        data: isObject(raw.data) ? raw.data : {},
        metadata: isObject(raw.metadata) ? raw.metadata : {},
        ...(typeof raw.execution_count === 'number'
          ? { execution_count: raw.execution_count }
          : {}),
      };
    default:
      return null;
  }
}

function readOutputs(value: unknown): Output[] {
  const items = value instanceof Y.Array ? (value.toArray() as unknown[]) : value;
  if (!Array.isArray(items)) {
    return [];
  }
  return items.map(safeOutput).filter((o): o is Output => o !== null);
}

const CELL_TYPES: CellType[] = ['code', 'markdown', 'raw'];

/** Read a cell of the document, whatever a writer put there (null: not a cell at all). */
export function readCell(item: unknown, index: number): Cell | null {
  if (!(item instanceof Y.Map)) {
    return null;
  }
  const type = item.get('cell_type');
  const source = plain(item.get('source'));
  const metadata = plain(item.get('metadata'));
  const count = item.get('execution_count');
  const id = item.get('id');
  return {
    id: typeof id === 'string' && id ? id : `live-cell-${index}`,
    cell_type: CELL_TYPES.includes(type as CellType) ? (type as CellType) : 'raw',
    source: typeof source === 'string' ? source : '',
    metadata: isObject(metadata) ? metadata : {},
    outputs: readOutputs(item.get('outputs')),
    execution_count: typeof count === 'number' && Number.isFinite(count) ? count : null,
  };
}

/** Read what the room's document shows (never throws on a broken layout). */
export function readNotebook(doc: Y.Doc): LiveNotebook {
  const cells: Cell[] = [];
  const seen = new Set<string>();
  doc
    .getArray<unknown>(CELLS)
    .toArray()
    .forEach((item, i) => {
      const cell = readCell(item, i);
      if (cell && !seen.has(cell.id)) {
        seen.add(cell.id);
        cells.push(cell);
      }
    });
  const error = doc.getMap<unknown>(STATE).get(ERROR);
  const metadata = plain(doc.getMap<unknown>(META).get('metadata'));
  const info = isObject(metadata) ? metadata : {};
  const named = (value: unknown, key: string) =>
    isObject(value) && typeof value[key] === 'string' ? value[key] : '';
  const language = named(info.language_info, 'name') || named(info.kernelspec, 'language');
  return { cells, error: typeof error === 'string' ? error : null, language };
}

/** The Y.Text of a cell's source in the document (null: no such cell, or no text). */
export function cellText(doc: Y.Doc, id: string): Y.Text | null {
  for (const item of doc.getArray<unknown>(CELLS)) {
    if (item instanceof Y.Map && item.get('id') === id) {
      const source = item.get('source');
      return source instanceof Y.Text ? source : null;
    }
  }
  return null;
}

function yOutput(output: Output): Y.Map<unknown> {
  const map = new Y.Map<unknown>();
  for (const [key, value] of Object.entries(output)) {
    if (value === undefined) {
      continue;
    }
    // As jupyter_ydoc keeps it: a stream's text is a Y.Text.
    map.set(
      key,
      output.output_type === 'stream' && key === 'text' ? new Y.Text(text(value)) : value,
    );
  }
  return map;
}

function yOutputs(outputs: Output[]): Y.Array<unknown> {
  const array = new Y.Array<unknown>();
  array.push(outputs.map(yOutput));
  return array;
}

/** A cell as a Y.Map of the YNotebook layout. */
export function yCell(cell: Cell): Y.Map<unknown> {
  const map = new Y.Map<unknown>();
  map.set('id', cell.id);
  map.set('cell_type', cell.cell_type);
  map.set('source', new Y.Text(cell.source));
  const metadata = new Y.Map<unknown>();
  Object.entries(cell.metadata).forEach(([key, value]) => metadata.set(key, value));
  map.set('metadata', metadata);
  if (cell.cell_type === 'code') {
    map.set('outputs', yOutputs(cell.outputs));
    map.set('execution_count', cell.execution_count);
  }
  return map;
}

/** Change ``ytext`` into ``wanted`` by its middle only (bound editors keep their cursors). */
export function setText(ytext: Y.Text, wanted: string): void {
  const current = ytext.toString();
  if (current === wanted) {
    return;
  }
  let start = 0;
  while (start < current.length && start < wanted.length && current[start] === wanted[start]) {
    start++;
  }
  let end = 0;
  while (
    end < current.length - start &&
    end < wanted.length - start &&
    current[current.length - 1 - end] === wanted[wanted.length - 1 - end]
  ) {
    end++;
  }
  ytext.delete(start, current.length - start - end);
  ytext.insert(start, wanted.slice(start, wanted.length - end));
}

// The outputs each document cell was last written from (the notebook view changes them by copy).
const written = new WeakMap<Y.Map<unknown>, Output[]>();

function updateCell(map: Y.Map<unknown>, cell: Cell, bound: boolean): void {
  if (map.get('cell_type') !== cell.cell_type) {
    map.set('cell_type', cell.cell_type);
  }
  const source = map.get('source');
  if (source instanceof Y.Text) {
    if (!bound) {
      setText(source, cell.source);
    }
  } else {
    map.set('source', new Y.Text(cell.source));
  }
  if (cell.cell_type !== 'code') {
    return;
  }
  if (map.get('execution_count') !== cell.execution_count) {
    map.set('execution_count', cell.execution_count);
  }
  if (written.get(map) !== cell.outputs) {
    const shown = JSON.stringify(readOutputs(map.get('outputs')));
    if (shown !== JSON.stringify(cell.outputs.map(safeOutput))) {
      map.set('outputs', yOutputs(cell.outputs));
    }
    written.set(map, cell.outputs);
  }
}

/**
 * Make the document hold ``notebook`` (the editor's): cells inserted, deleted, moved (deleted and
 * inserted, as jupyter_ydoc moves them), retyped, their sources, outputs and counts, in one
 * transaction with ``origin``. What a writer broke (a non-cell, a duplicate id) goes. The text of
 * a cell ``bound`` says an editor is bound to is that binding's to write (the notebook may lag).
 */
export function writeNotebook(
  doc: Y.Doc,
  notebook: Notebook,
  origin: unknown,
  bound: (id: string) => boolean = () => false,
): void {
  const ycells = doc.getArray<unknown>(CELLS);
  const meta = doc.getMap<unknown>(META);
  doc.transact(() => {
    if (meta.get('nbformat') !== notebook.nbformat) {
      meta.set('nbformat', notebook.nbformat);
    }
    if (meta.get('nbformat_minor') !== notebook.nbformat_minor) {
      meta.set('nbformat_minor', notebook.nbformat_minor);
    }
    if (JSON.stringify(plain(meta.get('metadata'))) !== JSON.stringify(notebook.metadata)) {
      const metadata = new Y.Map<unknown>();
      Object.entries(notebook.metadata).forEach(([key, value]) => metadata.set(key, value));
      meta.set('metadata', metadata);
    }
    const wanted = new Set(notebook.cells.map((c) => c.id));
    const seen = new Set<string>();
    const gone: number[] = [];
    ycells.toArray().forEach((item, i) => {
      const id = item instanceof Y.Map ? item.get('id') : undefined;
      if (typeof id !== 'string' || !wanted.has(id) || seen.has(id)) {
        gone.push(i);
      } else {
        seen.add(id);
      }
    });
    gone.reverse().forEach((i) => ycells.delete(i, 1));
    notebook.cells.forEach((cell, i) => {
      const here = i < ycells.length ? ycells.get(i) : undefined;
      if (here instanceof Y.Map && here.get('id') === cell.id) {
        updateCell(here, cell, bound(cell.id));
        return;
      }
      const items = ycells.toArray();
      const later = items.findIndex(
        (c, j) => j > i && c instanceof Y.Map && c.get('id') === cell.id,
      );
      if (later >= 0) {
        ycells.delete(later, 1);
      }
      const created = yCell(cell);
      ycells.insert(i, [created]);
      written.set(created, cell.outputs);
    });
    if (ycells.length > notebook.cells.length) {
      ycells.delete(notebook.cells.length, ycells.length - notebook.cells.length);
    }
  }, origin);
}
