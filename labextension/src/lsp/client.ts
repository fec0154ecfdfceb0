/** The page's LSP client: servers from /lsp/status, documents in sync, edits and navigation. */
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type {
  Diagnostic,
  Location,
  LocationLink,
  Range,
  TextEdit,
  WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import type { Services } from '../services';
import { languageForPath } from '../lib/languages';
import { monaco } from '../monaco/setup';
import { LspConnection } from './connection';
import { applyTextEdits, editsByUri, type MonacoRange } from './convert';
import { FileDoc, MARKER_OWNER, NotebookDoc, type LspDoc } from './documents';
import { lspLanguageId, serverFor, virtualExtension, type SpecInfo } from './languages';
import { openFile } from './opener';
import { registerProviders } from './providers';
import { setServerState } from './store';
import { pathToUri, uriToPath } from './uris';

type Model = monaco.editor.ITextModel;
type Editor = monaco.editor.ICodeEditor;

/** /lsp/status as jupyter-lsp (and our sandboxed servers) answer it. */
interface LspStatus {
  specs?: Record<string, SpecInfo>;
  root_uri?: string;
}

/** Something to undo when a view goes. */
export interface Handle {
  dispose(): void;
}

/** The LSP client of this page (one per page, made on first use). */
export class LspClient {
  private readonly connections = new Map<string, LspConnection>();
  private readonly docs = new Set<LspDoc>();
  private readonly byModel = new Map<string, LspDoc>();
  private readonly shadows = new Map<string, Model>();
  private readonly pendingReveal = new Map<string, MonacoRange>();
  private readonly notebooks = new Map<string, NotebookDoc>();
  private readonly registered = new Set<string>();

  private constructor(
    readonly services: Services,
    readonly rootUri: string,
    private readonly specs: Record<string, SpecInfo>,
  ) {
    monaco.editor.registerEditorOpener({
      openCodeEditor: (_source, resource, selection) => this.reveal(resource, selection),
    });
  }

  /** Ask the server which language servers exist and where the workspace root is. */
  static async create(services: Services): Promise<LspClient> {
    const settings = services.settings;
    const url = URLExt.join(settings.baseUrl, 'lsp', 'status');
    const response = await ServerConnection.makeRequest(url, {}, settings);
    if (!response.ok) {
      throw new Error(`GET /lsp/status answered ${response.status}`);
    }
    const status = (await response.json()) as LspStatus;
    const root = status.root_uri || PageConfig.getOption('rootUri');
    if (!root) {
      throw new Error('/lsp/status names no root_uri');
    }
    return new LspClient(services, root, status.specs ?? {});
  }

  /** The server key for a Monaco language, or null when none serves it. */
  serverFor(language: string): string | null {
    return serverFor(this.specs, language);
  }

  /** The connection to a server, made (and connected) on first use. */
  connection(key: string): LspConnection {
    let connection = this.connections.get(key);
    if (!connection) {
      const settings = this.services.settings;
      let url = URLExt.join(settings.wsUrl, 'lsp', 'ws', encodeURIComponent(key));
      if (settings.token) {
        url += `?token=${encodeURIComponent(settings.token)}`;
      }
      connection = new LspConnection(key, url, this.rootUri, {
        onReady: () => this.reopen(key),
        onDiagnostics: (uri, diagnostics) => this.diagnostics(uri, diagnostics),
        onState: (state, detail) => setServerState(key, state, detail),
        onApplyEdit: (edit) => this.applyEdit(edit).then(() => true),
      });
      this.connections.set(key, connection);
      connection.start();
    }
    return connection;
  }

  /** The document a model belongs to. */
  docOf(model: Model): LspDoc | null {
    return this.byModel.get(model.uri.toString()) ?? null;
  }

  /** Open a file editor's model in its server; disposing closes it. */
  attachFile(editor: Editor, path: string): Handle | null {
    const model = editor.getModel();
    const language = languageForPath(path);
    const server = this.serverFor(language);
    if (!model || !server) {
      return null;
    }
    const doc = new FileDoc(path, pathToUri(this.rootUri, path), language, server, model, editor);
    const changes = model.onDidChangeContent(() => this.changed(doc));
    this.add(doc);
    const reveal = this.pendingReveal.get(path);
    if (reveal) {
      this.pendingReveal.delete(path);
      // The text arrives after the editor is made: move there once it has.
      const show = () => window.setTimeout(() => revealIn(editor, reveal), 0);
      if (model.getValueLength() > 0) {
        show();
      } else {
        const once = model.onDidChangeContent(() => {
          once.dispose();
          show();
        });
      }
    }
    return {
      dispose: () => {
        changes.dispose();
        this.remove(doc);
      },
    };
  }

  /** Open a notebook's virtual document; the view keeps its code cells' order up to date. */
  attachNotebook(
    path: string,
    language: string,
  ): (Handle & { setOrder(ids: string[]): void }) | null {
    const server = this.serverFor(language);
    if (!server) {
      return null;
    }
    const uri = pathToUri(this.rootUri, `${path}.${virtualExtension(language)}`);
    const doc = new NotebookDoc(path, uri, language, server);
    this.notebooks.set(path, doc);
    this.add(doc);
    return {
      setOrder: (ids) => {
        doc.setOrder(ids);
        this.changed(doc);
        doc.refreshMarkers();
      },
      dispose: () => {
        if (this.notebooks.get(path) === doc) {
          this.notebooks.delete(path);
        }
        this.remove(doc);
      },
    };
  }

  /** A code cell's editor joins its notebook's virtual document. */
  attachCell(path: string, id: string, editor: Editor): Handle | null {
    const doc = this.notebooks.get(path);
    const model = editor.getModel();
    if (!doc || !model) {
      return null;
    }
    doc.addCell(id, editor);
    this.byModel.set(model.uri.toString(), doc);
    const changes = model.onDidChangeContent(() => this.changed(doc));
    this.ensureProviders(doc);
    this.changed(doc);
    return {
      dispose: () => {
        changes.dispose();
        doc.removeCell(id);
        this.byModel.delete(model.uri.toString());
        this.changed(doc);
      },
    };
  }

  /** Track a document and open it in its server. */
  private add(doc: LspDoc): void {
    this.docs.add(doc);
    for (const { model } of doc.parts()) {
      this.byModel.set(model.uri.toString(), doc);
    }
    this.ensureProviders(doc);
    const connection = this.connection(doc.server);
    if (connection.isReady) {
      this.didOpen(doc);
    }
  }

  /** Close a document in its server and drop its markers. */
  private remove(doc: LspDoc): void {
    if (!this.docs.delete(doc)) {
      return;
    }
    for (const { model } of doc.parts()) {
      if (this.byModel.get(model.uri.toString()) === doc) {
        this.byModel.delete(model.uri.toString());
      }
      if (!model.isDisposed()) {
        monaco.editor.setModelMarkers(model, MARKER_OWNER, []);
      }
    }
    this.connections.get(doc.server)?.notify('textDocument/didClose', {
      textDocument: { uri: doc.uri },
    });
  }

  /** Providers for the document's language, registered once (after the server is known). */
  private ensureProviders(doc: LspDoc): void {
    if (!this.registered.has(doc.language)) {
      this.registered.add(doc.language);
      builtinOff(doc.language);
      registerProviders(this, doc.language);
    }
  }

  private didOpen(doc: LspDoc): void {
    this.connections.get(doc.server)?.notify('textDocument/didOpen', {
      textDocument: {
        uri: doc.uri,
        languageId: lspLanguageId(doc.language),
        version: doc.version,
        text: doc.getText(),
      },
    });
  }

  /** The server is (again) initialized: every document of it is opened afresh. */
  private reopen(server: string): void {
    for (const doc of this.docs) {
      if (doc.server === server) {
        doc.version += 1;
        this.didOpen(doc);
      }
    }
  }

  /** A document's text changed: send it whole (every server accepts a full-text change). */
  private changed(doc: LspDoc): void {
    if (!this.docs.has(doc)) {
      return;
    }
    doc.version += 1;
    this.connections.get(doc.server)?.notify('textDocument/didChange', {
      textDocument: { uri: doc.uri, version: doc.version },
      contentChanges: [{ text: doc.getText() }],
    });
  }

  private diagnostics(uri: string, diagnostics: Diagnostic[]): void {
    for (const doc of this.docs) {
      if (doc.uri === uri) {
        doc.showDiagnostics(diagnostics);
      }
    }
  }

  /** The open document with this LSP URI, if any. */
  private docByUri(uri: string): LspDoc | null {
    for (const doc of this.docs) {
      if (doc.uri === uri) {
        return doc;
      }
    }
    return null;
  }

  /** Server locations as Monaco locations; files not open get a read-only model to show. */
  async locations(
    result: Location | Location[] | LocationLink[] | null | undefined,
  ): Promise<monaco.languages.Location[]> {
    const list = result ? (Array.isArray(result) ? result : [result]) : [];
    const out: monaco.languages.Location[] = [];
    for (const item of list) {
      const uri = 'targetUri' in item ? item.targetUri : item.uri;
      const range = 'targetUri' in item ? item.targetSelectionRange : item.range;
      const place = await this.place(uri, range);
      if (place) {
        out.push({ uri: place.model.uri, range: place.range });
      }
    }
    return out;
  }

  /** A server range as a model and range: an open document's, or a file's shadow model. */
  private async place(
    uri: string,
    range: Range,
  ): Promise<{ model: Model; range: MonacoRange } | null> {
    const doc = this.docByUri(uri);
    if (doc) {
      return doc.toModel(range);
    }
    const model = await this.shadow(uri);
    return model
      ? {
          model,
          range: {
            startLineNumber: range.start.line + 1,
            startColumn: range.start.character + 1,
            endLineNumber: range.end.line + 1,
            endColumn: range.end.character + 1,
          },
        }
      : null;
  }

  /** A model holding a workspace file that no editor shows (for peeks and references). */
  private async shadow(uri: string): Promise<Model | null> {
    const existing = this.shadows.get(uri);
    if (existing && !existing.isDisposed()) {
      return existing;
    }
    const path = uriToPath(this.rootUri, uri);
    if (!path) {
      return null;
    }
    try {
      const file = await this.services.contents.get(path, {
        type: 'file',
        format: 'text',
        content: true,
      });
      const model = monaco.editor.createModel(
        String(file.content ?? ''),
        languageForPath(path),
        monaco.Uri.parse(uri),
      );
      this.shadows.set(uri, model);
      return model;
    } catch {
      return null;
    }
  }

  /** Open what a Monaco URI names (a file, a shadow, a cell) and select the range there. */
  reveal(resource: monaco.Uri, selection?: monaco.IRange | monaco.IPosition): boolean {
    const range = toRange(selection);
    const key = resource.toString();
    const doc = this.byModel.get(key);
    if (doc) {
      openFile(doc.path);
      const part = doc.parts().find((p) => p.model.uri.toString() === key);
      if (part?.editor && range) {
        const editor = part.editor;
        window.setTimeout(() => revealIn(editor, range), 0);
      }
      return true;
    }
    const path = uriToPath(this.rootUri, key);
    if (!path) {
      return false;
    }
    if (range) {
      this.pendingReveal.set(path, range);
    }
    return openFile(path);
  }

  /** Apply a server's workspace edit: open documents via Monaco, other files on disk. */
  async workspaceEdit(edit: WorkspaceEdit): Promise<monaco.languages.WorkspaceEdit> {
    const edits: monaco.languages.IWorkspaceTextEdit[] = [];
    for (const [uri, textEdits] of editsByUri(edit)) {
      const doc = this.docByUri(uri);
      if (doc) {
        for (const e of textEdits) {
          const place = doc.toModel(e.range);
          if (place) {
            edits.push({
              resource: place.model.uri,
              textEdit: { range: place.range, text: e.newText },
              versionId: undefined,
            });
          }
        }
        continue;
      }
      const path = uriToPath(this.rootUri, uri);
      if (!path) {
        throw new Error(`The edit reaches outside the workspace: ${uri}`);
      }
      await this.editOnDisk(path, textEdits);
      const shadow = this.shadows.get(uri);
      if (shadow && !shadow.isDisposed()) {
        shadow.setValue(applyTextEdits(shadow.getValue(), textEdits));
      }
    }
    return { edits };
  }

  /** Apply a workspace edit the server asks for (workspace/applyEdit). */
  private async applyEdit(edit: WorkspaceEdit): Promise<void> {
    const { edits } = await this.workspaceEdit(edit);
    const byModel = new Map<Model, monaco.editor.IIdentifiedSingleEditOperation[]>();
    for (const e of edits) {
      if (!('textEdit' in e)) {
        continue;
      }
      const model = monaco.editor.getModel(e.resource);
      if (model) {
        const list = byModel.get(model) ?? [];
        list.push({ range: e.textEdit.range, text: e.textEdit.text });
        byModel.set(model, list);
      }
    }
    for (const [model, ops] of byModel) {
      model.pushEditOperations([], ops, () => null);
    }
  }

  /** Edit a file that no editor shows: read, apply, save (as the editor would save it). */
  private async editOnDisk(path: string, edits: TextEdit[]): Promise<void> {
    const contents = this.services.contents;
    const file = await contents.get(path, { type: 'file', format: 'text', content: true });
    const text = applyTextEdits(String(file.content ?? ''), edits);
    await contents.save(path, { type: 'file', format: 'text', content: text });
  }
}

/** Turn Monaco's own JavaScript/TypeScript diagnostics off where a server serves the language. */
function builtinOff(language: string): void {
  const defaults =
    language === 'javascript'
      ? monaco.typescript.javascriptDefaults
      : language === 'typescript'
        ? monaco.typescript.typescriptDefaults
        : null;
  // Two sources would show every error twice. (Monaco registers its other JS/TS providers
  // once, at the language's first model, and ignores later mode changes: its completions and
  // hovers stay beside the server's.)
  defaults?.setDiagnosticsOptions({
    ...defaults.getDiagnosticsOptions(),
    noSemanticValidation: true,
    noSyntaxValidation: true,
    noSuggestionDiagnostics: true,
  });
}

/** A Monaco selection or position as a range. */
function toRange(selection?: monaco.IRange | monaco.IPosition): MonacoRange | null {
  if (!selection) {
    return null;
  }
  if ('startLineNumber' in selection) {
    return selection;
  }
  return {
    startLineNumber: selection.lineNumber,
    startColumn: selection.column,
    endLineNumber: selection.lineNumber,
    endColumn: selection.column,
  };
}

/** Select a range in an editor, scroll to it and focus it. */
function revealIn(editor: Editor, range: MonacoRange): void {
  editor.setSelection(range);
  editor.revealRangeInCenterIfOutsideViewport(range);
  editor.focus();
}

let client: Promise<LspClient> | null = null;

/** The page's client, made on first use (a failed start is retried on the next use). */
export function getClient(services: Services): Promise<LspClient> {
  if (!client) {
    client = LspClient.create(services).catch((e: unknown) => {
      client = null;
      throw e;
    });
  }
  return client;
}
