/** Documents the language servers see: one file's model, or a notebook's code cells as one. */
import type { Diagnostic, Position, Range } from 'vscode-languageserver-protocol';
import { monaco } from '../monaco/setup';
import { toLspRange, toMarker, toMonacoRange, type MonacoRange } from './convert';
import { buildVirtual, rangeFromVirtual, toVirtual, type VirtualDocument } from './notebookDoc';

type Model = monaco.editor.ITextModel;
type Editor = monaco.editor.ICodeEditor;

/** The owner of markers we set, so others' markers stay. */
export const MARKER_OWNER = 'lsp';

/** A range in one of a document's models. */
export interface ModelRange {
  model: Model;
  range: MonacoRange;
}

/** A document open in a language server. */
export interface LspDoc {
  /** The workspace path of the file or notebook. */
  readonly path: string;
  /** The document's LSP URI. */
  readonly uri: string;
  /** The Monaco language id. */
  readonly language: string;
  /** The server key serving it. */
  readonly server: string;
  version: number;
  /** The text the server sees. */
  getText(): string;
  /** A Monaco position in one of the models as an LSP position, or null. */
  toLsp(model: Model, position: { lineNumber: number; column: number }): Position | null;
  /** An LSP range as a range in one of the models, or null (e.g. between cells). */
  toModel(range: Range): ModelRange | null;
  /** The models and the editors showing them. */
  parts(): { model: Model; editor: Editor | null }[];
  /** Show the server's diagnostics as markers. */
  showDiagnostics(diagnostics: Diagnostic[]): void;
}

/** One file in one editor. */
export class FileDoc implements LspDoc {
  version = 1;

  constructor(
    readonly path: string,
    readonly uri: string,
    readonly language: string,
    readonly server: string,
    readonly model: Model,
    readonly editor: Editor,
  ) {}

  getText(): string {
    return this.model.getValue();
  }

  toLsp(model: Model, position: { lineNumber: number; column: number }): Position | null {
    return model === this.model
      ? { line: position.lineNumber - 1, character: position.column - 1 }
      : null;
  }

  toModel(range: Range): ModelRange {
    return { model: this.model, range: toMonacoRange(range) };
  }

  parts() {
    return [{ model: this.model, editor: this.editor }];
  }

  showDiagnostics(diagnostics: Diagnostic[]): void {
    if (!this.model.isDisposed()) {
      monaco.editor.setModelMarkers(this.model, MARKER_OWNER, diagnostics.map(toMarker));
    }
  }
}

/** The code cells of a notebook, in order, as one document. */
export class NotebookDoc implements LspDoc {
  version = 1;
  private readonly cells = new Map<string, { model: Model; editor: Editor }>();
  private order: string[] = [];
  private virtual: VirtualDocument = { text: '', spans: [] };
  private diagnostics: Diagnostic[] = [];

  constructor(
    readonly path: string,
    readonly uri: string,
    readonly language: string,
    readonly server: string,
  ) {}

  /** Set the code cells' order (ids); the text is rebuilt. */
  setOrder(ids: string[]): void {
    this.order = ids;
  }

  /** A cell's editor appeared. */
  addCell(id: string, editor: Editor): void {
    const model = editor.getModel();
    if (model) {
      this.cells.set(id, { model, editor });
    }
  }

  /** A cell's editor went. */
  removeCell(id: string): void {
    const cell = this.cells.get(id);
    if (cell && !cell.model.isDisposed()) {
      monaco.editor.setModelMarkers(cell.model, MARKER_OWNER, []);
    }
    this.cells.delete(id);
  }

  /** True when no cell is attached. */
  get empty(): boolean {
    return this.cells.size === 0;
  }

  /** The cell id of a model, if it is one of ours. */
  cellOf(model: Model): string | null {
    for (const [id, cell] of this.cells) {
      if (cell.model === model) {
        return id;
      }
    }
    return null;
  }

  getText(): string {
    const cells = this.order
      .map((id) => ({ id, cell: this.cells.get(id) }))
      .filter((c) => c.cell && !c.cell.model.isDisposed())
      .map((c) => ({ id: c.id, source: c.cell?.model.getValue() ?? '' }));
    this.virtual = buildVirtual(cells, this.language);
    return this.virtual.text;
  }

  toLsp(model: Model, position: { lineNumber: number; column: number }): Position | null {
    const id = this.cellOf(model);
    return id === null
      ? null
      : toVirtual(this.virtual, {
          id,
          line: position.lineNumber - 1,
          character: position.column - 1,
        });
  }

  toModel(range: Range): ModelRange | null {
    const mapped = rangeFromVirtual(this.virtual, range);
    const cell = mapped ? this.cells.get(mapped.id) : undefined;
    if (!mapped || !cell) {
      return null;
    }
    const end = Math.min(mapped.end.line + 1, cell.model.getLineCount());
    return {
      model: cell.model,
      range: {
        startLineNumber: mapped.start.line + 1,
        startColumn: mapped.start.character + 1,
        endLineNumber: end,
        endColumn: Math.min(mapped.end.character + 1, cell.model.getLineMaxColumn(end)),
      },
    };
  }

  parts() {
    return this.order.flatMap((id) => {
      const cell = this.cells.get(id);
      return cell ? [cell] : [];
    });
  }

  showDiagnostics(diagnostics: Diagnostic[]): void {
    this.diagnostics = diagnostics;
    const byModel = new Map<Model, ReturnType<typeof toMarker>[]>();
    for (const { model } of this.cells.values()) {
      byModel.set(model, []);
    }
    for (const diagnostic of diagnostics) {
      const place = this.toModel(diagnostic.range);
      if (place) {
        byModel.get(place.model)?.push(toMarker({ ...diagnostic, range: toLspRange(place.range) }));
      }
    }
    for (const [model, markers] of byModel) {
      if (!model.isDisposed()) {
        monaco.editor.setModelMarkers(model, MARKER_OWNER, markers);
      }
    }
  }

  /** Show the last diagnostics again (after the cells moved). */
  refreshMarkers(): void {
    this.showDiagnostics(this.diagnostics);
  }
}
