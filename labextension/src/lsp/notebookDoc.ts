/** The code cells of a notebook as one virtual document, with positions mapped both ways. */

/** A cell as the virtual document sees it. */
export interface VirtualCell {
  id: string;
  source: string;
}

/** Where one cell's lines sit in the virtual document. */
export interface CellSpan {
  id: string;
  /** The virtual line (0-based) of the cell's first line. */
  start: number;
  /** How many lines the cell has. */
  lines: number;
}

/** A notebook's virtual document: its text and where each cell is in it. */
export interface VirtualDocument {
  text: string;
  spans: CellSpan[];
}

/** A position in a cell (0-based line and character, as LSP counts them). */
export interface CellPosition {
  id: string;
  line: number;
  character: number;
}

/** Blank lines between cells: two, so each cell starts as a new top-level block. */
const GAP = 2;

/** A line that is IPython syntax (magics, shell escapes, help) made a comment of equal length. */
function maskLine(line: string): string {
  const trimmed = line.trimStart();
  if (/^(%|!|\?)/.test(trimmed) || /^[\w.]+\?\??\s*$/.test(trimmed)) {
    const indent = line.length - trimmed.length;
    return `${line.slice(0, indent)}#${trimmed.slice(1)}`;
  }
  return line;
}

/** Build the virtual document of the cells, in order; IPython-only lines masked for Python. */
export function buildVirtual(cells: VirtualCell[], language = 'python'): VirtualDocument {
  const parts: string[] = [];
  const spans: CellSpan[] = [];
  let line = 0;
  for (const cell of cells) {
    const lines = cell.source.split('\n');
    const text = language === 'python' ? lines.map(maskLine) : lines;
    spans.push({ id: cell.id, start: line, lines: lines.length });
    parts.push(text.join('\n'));
    line += lines.length + GAP;
  }
  return { text: parts.join('\n'.repeat(GAP + 1)) + (parts.length ? '\n' : ''), spans };
}

/** The virtual position of a position in a cell, or null when the cell is not in it. */
export function toVirtual(
  doc: VirtualDocument,
  pos: CellPosition,
): { line: number; character: number } | null {
  const span = doc.spans.find((s) => s.id === pos.id);
  if (!span || pos.line < 0 || pos.line >= span.lines) {
    return null;
  }
  return { line: span.start + pos.line, character: pos.character };
}

/** The cell position of a virtual position, or null when it falls between cells. */
export function fromVirtual(
  doc: VirtualDocument,
  pos: { line: number; character: number },
): CellPosition | null {
  for (const span of doc.spans) {
    if (pos.line >= span.start && pos.line < span.start + span.lines) {
      return { id: span.id, line: pos.line - span.start, character: pos.character };
    }
  }
  return null;
}

/** A virtual range as a range of one cell, or null when it spans cells or gaps. */
export function rangeFromVirtual(
  doc: VirtualDocument,
  range: {
    start: { line: number; character: number };
    end: { line: number; character: number };
  },
): { id: string; start: CellPosition; end: CellPosition } | null {
  const start = fromVirtual(doc, range.start);
  if (!start) {
    return null;
  }
  let end = fromVirtual(doc, range.end);
  if (!end || end.id !== start.id) {
    // A range ending at the start of the gap line ends at the end of its cell.
    const span = doc.spans.find((s) => s.id === start.id);
    if (span && range.end.line === span.start + span.lines && range.end.character === 0) {
      end = { id: start.id, line: span.lines - 1, character: Number.MAX_SAFE_INTEGER };
    } else {
      return null;
    }
  }
  return { id: start.id, start, end };
}
