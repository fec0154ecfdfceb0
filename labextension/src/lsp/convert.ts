/** LSP values as Monaco's plain shapes (1-based ranges, marker data) and back; no Monaco import. */
import type {
  CompletionItem,
  Diagnostic,
  MarkedString,
  MarkupContent,
  Position,
  Range,
  TextEdit,
  WorkspaceEdit,
} from 'vscode-languageserver-protocol';

/** Monaco's range shape (1-based lines and columns). */
export interface MonacoRange {
  startLineNumber: number;
  startColumn: number;
  endLineNumber: number;
  endColumn: number;
}

/** Monaco's marker severities (monaco.MarkerSeverity values). */
export const MARKER_SEVERITY = { Hint: 1, Info: 2, Warning: 4, Error: 8 } as const;

/** A Monaco position (1-based) as an LSP position (0-based). */
export function toLspPosition(pos: { lineNumber: number; column: number }): Position {
  return { line: pos.lineNumber - 1, character: pos.column - 1 };
}

/** An LSP range as a Monaco range. */
export function toMonacoRange(range: Range): MonacoRange {
  return {
    startLineNumber: range.start.line + 1,
    startColumn: range.start.character + 1,
    endLineNumber: range.end.line + 1,
    endColumn: range.end.character + 1,
  };
}

/** A Monaco range as an LSP range. */
export function toLspRange(range: MonacoRange): Range {
  return {
    start: { line: range.startLineNumber - 1, character: range.startColumn - 1 },
    end: { line: range.endLineNumber - 1, character: range.endColumn - 1 },
  };
}

/** An LSP diagnostic as Monaco marker data. */
export function toMarker(diagnostic: Diagnostic): MonacoRange & {
  severity: number;
  message: string;
  source?: string;
  code?: string;
} {
  const severity =
    diagnostic.severity === 1
      ? MARKER_SEVERITY.Error
      : diagnostic.severity === 2
        ? MARKER_SEVERITY.Warning
        : diagnostic.severity === 3
          ? MARKER_SEVERITY.Info
          : diagnostic.severity === 4
            ? MARKER_SEVERITY.Hint
            : MARKER_SEVERITY.Error;
  const range = toMonacoRange(diagnostic.range);
  // A zero-width range (e.g. a syntax error at end of line) still gets a visible squiggle.
  if (range.startLineNumber === range.endLineNumber && range.startColumn === range.endColumn) {
    range.endColumn += 1;
  }
  return {
    ...range,
    severity,
    message: typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value,
    source: diagnostic.source,
    code: diagnostic.code === undefined ? undefined : String(diagnostic.code),
  };
}

/** Monaco CompletionItemKind names by LSP CompletionItemKind number. */
const KIND_NAMES: Record<number, string> = {
  1: 'Text',
  2: 'Method',
  3: 'Function',
  4: 'Constructor',
  5: 'Field',
  6: 'Variable',
  7: 'Class',
  8: 'Interface',
  9: 'Module',
  10: 'Property',
  11: 'Unit',
  12: 'Value',
  13: 'Enum',
  14: 'Keyword',
  15: 'Snippet',
  16: 'Color',
  17: 'File',
  18: 'Reference',
  19: 'Folder',
  20: 'EnumMember',
  21: 'Constant',
  22: 'Struct',
  23: 'Event',
  24: 'Operator',
  25: 'TypeParameter',
};

/** The Monaco CompletionItemKind name for an LSP completion kind ("Text" when unknown). */
export function completionKindName(kind: number | undefined): string {
  return (kind !== undefined && KIND_NAMES[kind]) || 'Text';
}

/** Hover or documentation contents as Markdown strings for Monaco. */
export function toMarkdown(
  contents: MarkupContent | MarkedString | MarkedString[] | string | undefined | null,
): string[] {
  if (contents === undefined || contents === null) {
    return [];
  }
  if (Array.isArray(contents)) {
    return contents.flatMap((c) => toMarkdown(c));
  }
  if (typeof contents === 'string') {
    return contents.trim() ? [contents] : [];
  }
  if ('kind' in contents) {
    if (!contents.value.trim()) {
      return [];
    }
    return [contents.kind === 'markdown' ? contents.value : fence('', contents.value)];
  }
  return contents.value.trim() ? [fence(contents.language, contents.value)] : [];
}

/** Code in a Markdown fence long enough not to be closed by the code itself. */
function fence(language: string, code: string): string {
  const longest = Math.max(2, ...(code.match(/`+/g) ?? []).map((m) => m.length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${language}\n${code}\n${ticks}`;
}

/** The text a completion inserts, and whether it is a snippet. */
export function completionInsert(item: CompletionItem): { text: string; snippet: boolean } {
  const edit = item.textEdit;
  const text = edit ? edit.newText : (item.insertText ?? item.label);
  return { text, snippet: item.insertTextFormat === 2 };
}

/** The range a completion replaces, if the server gave one (either textEdit form). */
export function completionRange(item: CompletionItem): Range | null {
  const edit = item.textEdit;
  if (!edit) {
    return null;
  }
  return 'range' in edit ? edit.range : edit.replace;
}

/** Apply LSP text edits to a text (for files not open in an editor). */
export function applyTextEdits(text: string, edits: { range: Range; newText: string }[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\n') {
      starts.push(i + 1);
    }
  }
  const offset = (p: Position): number => {
    if (p.line >= starts.length) {
      return text.length;
    }
    const next = starts[p.line + 1];
    const lineEnd = next === undefined ? text.length : next - 1;
    return Math.min((starts[p.line] ?? text.length) + p.character, lineEnd);
  };
  const sorted = edits
    .map((e) => ({ from: offset(e.range.start), to: offset(e.range.end), text: e.newText }))
    .sort((a, b) => b.from - a.from || b.to - a.to);
  let out = text;
  for (const e of sorted) {
    out = out.slice(0, e.from) + e.text + out.slice(e.to);
  }
  return out;
}

/** All text edits of a workspace edit, by document URI (both of its forms). */
export function editsByUri(edit: WorkspaceEdit): Map<string, TextEdit[]> {
  const out = new Map<string, TextEdit[]>();
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) {
    out.set(uri, [...(out.get(uri) ?? []), ...edits]);
  }
  for (const change of edit.documentChanges ?? []) {
    if ('textDocument' in change) {
      const uri = change.textDocument.uri;
      const edits = change.edits.filter((e): e is TextEdit => 'range' in e);
      out.set(uri, [...(out.get(uri) ?? []), ...edits]);
    }
  }
  return out;
}
