/** Monaco providers for one language, answered by the document's language server. */
import type {
  CompletionItem,
  CompletionList,
  Hover,
  Location,
  LocationLink,
  SignatureHelp,
  TextEdit,
  WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import { monaco } from '../monaco/setup';
import type { LspClient } from './client';
import { completionInsert, completionKindName, completionRange, toMarkdown } from './convert';
import type { LspDoc } from './documents';

type Model = monaco.editor.ITextModel;

/** The document, its server position and connection for a model position, or null. */
function at(client: LspClient, model: Model, position: monaco.Position) {
  const doc = client.docOf(model);
  const lspPosition = doc?.toLsp(model, position);
  if (!doc || !lspPosition) {
    return null;
  }
  return {
    doc,
    connection: client.connection(doc.server),
    params: { textDocument: { uri: doc.uri }, position: lspPosition },
  };
}

/** Completion items with the range of the word being typed when the server gives none. */
function completions(
  doc: LspDoc,
  model: Model,
  position: monaco.Position,
  items: CompletionItem[],
): monaco.languages.CompletionItem[] {
  const word = model.getWordUntilPosition(position);
  const fallback = new monaco.Range(
    position.lineNumber,
    word.startColumn,
    position.lineNumber,
    word.endColumn,
  );
  const kinds = monaco.languages.CompletionItemKind as unknown as Record<string, number>;
  return items.map((item) => {
    const { text, snippet } = completionInsert(item);
    const edited = completionRange(item);
    const place = edited ? doc.toModel(edited) : null;
    const docs = toMarkdown(item.documentation);
    return {
      label: item.label,
      kind: kinds[completionKindName(item.kind)] ?? kinds.Text ?? 18,
      detail: item.detail,
      documentation: docs.length ? { value: docs.join('\n\n') } : undefined,
      sortText: item.sortText,
      filterText: item.filterText,
      insertText: text,
      insertTextRules: snippet
        ? monaco.languages.CompletionItemInsertTextRule.InsertAsSnippet
        : undefined,
      range: place && place.model === model ? place.range : fallback,
      preselect: item.preselect,
      lspItem: item,
      lspServer: doc.server,
    } as monaco.languages.CompletionItem;
  });
}

/** A provider's answer, or nothing when the server failed (a restart, a timeout): Monaco would
 * report a thrown error as an uncaught page error; a missing answer is what a user expects. */
async function quietly<T>(what: string, ask: () => Promise<T>): Promise<T | undefined> {
  try {
    return await ask();
  } catch (e) {
    console.debug('LSP %s failed:', what, e);
    return undefined;
  }
}

/** Register every provider of `language` (once per page). */
export function registerProviders(client: LspClient, language: string): void {
  const caps = (doc: LspDoc) => client.connection(doc.server).capabilities;

  monaco.languages.registerCompletionItemProvider(language, {
    triggerCharacters: ['.', ':', '>', '/', '"', "'", '$', '<'],
    provideCompletionItems(model, position, context) {
      return quietly('provideCompletionItems', async () => {
        const place = at(client, model, position);
        if (!place) {
          return undefined;
        }
        const trigger = context.triggerCharacter;
        const triggers = caps(place.doc).completionProvider?.triggerCharacters ?? ['.'];
        if (trigger && !triggers.includes(trigger)) {
          return undefined;
        }
        const result = await place.connection.request<CompletionList | CompletionItem[] | null>(
          'textDocument/completion',
          {
            ...place.params,
            context: { triggerKind: context.triggerKind + 1, triggerCharacter: trigger },
          },
        );
        const items = Array.isArray(result) ? result : (result?.items ?? []);
        return {
          suggestions: completions(place.doc, model, position, items),
          incomplete: !Array.isArray(result) && Boolean(result?.isIncomplete),
        };
      });
    },
    async resolveCompletionItem(item) {
      const { lspItem, lspServer } = item as { lspItem?: CompletionItem; lspServer?: string };
      if (!lspItem || !lspServer || item.documentation) {
        return item;
      }
      const connection = client.connection(lspServer);
      if (!connection.capabilities.completionProvider?.resolveProvider) {
        return item;
      }
      try {
        const resolved = await connection.request<CompletionItem>(
          'completionItem/resolve',
          lspItem,
        );
        const docs = toMarkdown(resolved.documentation);
        return {
          ...item,
          detail: resolved.detail ?? item.detail,
          documentation: docs.length ? { value: docs.join('\n\n') } : item.documentation,
        };
      } catch {
        return item;
      }
    },
  });

  monaco.languages.registerHoverProvider(language, {
    provideHover(model, position) {
      return quietly('provideHover', async () => {
        const place = at(client, model, position);
        if (!place) {
          return undefined;
        }
        const hover = await place.connection.request<Hover | null>(
          'textDocument/hover',
          place.params,
        );
        const contents = toMarkdown(hover?.contents);
        if (!hover || contents.length === 0) {
          return undefined;
        }
        const range = hover.range ? place.doc.toModel(hover.range) : null;
        return {
          contents: contents.map((value) => ({ value })),
          range: range && range.model === model ? range.range : undefined,
        };
      });
    },
  });

  monaco.languages.registerSignatureHelpProvider(language, {
    signatureHelpTriggerCharacters: ['(', ','],
    signatureHelpRetriggerCharacters: [')'],
    provideSignatureHelp(model, position) {
      return quietly('provideSignatureHelp', async () => {
        const place = at(client, model, position);
        if (!place) {
          return undefined;
        }
        const help = await place.connection.request<SignatureHelp | null>(
          'textDocument/signatureHelp',
          place.params,
        );
        if (!help || help.signatures.length === 0) {
          return undefined;
        }
        return {
          value: {
            activeSignature: help.activeSignature ?? 0,
            activeParameter: help.activeParameter ?? 0,
            signatures: help.signatures.map((s) => ({
              label: s.label,
              documentation: toMarkdown(s.documentation).join('\n\n') || undefined,
              activeParameter: s.activeParameter ?? undefined,
              parameters: (s.parameters ?? []).map((p) => ({
                label: p.label,
                documentation: toMarkdown(p.documentation).join('\n\n') || undefined,
              })),
            })),
          },
          dispose: () => undefined,
        };
      });
    },
  });

  monaco.languages.registerDefinitionProvider(language, {
    provideDefinition(model, position) {
      return quietly('provideDefinition', async () => {
        const place = at(client, model, position);
        if (!place) {
          return undefined;
        }
        const result = await place.connection.request<
          Location | Location[] | LocationLink[] | null
        >('textDocument/definition', place.params);
        return client.locations(result);
      });
    },
  });

  monaco.languages.registerReferenceProvider(language, {
    provideReferences(model, position, context) {
      return quietly('provideReferences', async () => {
        const place = at(client, model, position);
        if (!place) {
          return undefined;
        }
        const result = await place.connection.request<Location[] | null>(
          'textDocument/references',
          {
            ...place.params,
            context: { includeDeclaration: context.includeDeclaration },
          },
        );
        return client.locations(result);
      });
    },
  });

  monaco.languages.registerRenameProvider(language, {
    async provideRenameEdits(model, position, newName) {
      try {
        const place = at(client, model, position);
        if (!place) {
          return undefined;
        }
        const edit = await place.connection.request<WorkspaceEdit | null>('textDocument/rename', {
          ...place.params,
          newName,
        });
        if (!edit) {
          return { edits: [], rejectReason: 'Nothing to rename here' };
        }
        return client.workspaceEdit(edit);
      } catch (e) {
        return { edits: [], rejectReason: e instanceof Error ? e.message : String(e) };
      }
    },
  });

  monaco.languages.registerDocumentFormattingEditProvider(language, {
    provideDocumentFormattingEdits(model, options) {
      return quietly('provideDocumentFormattingEdits', async () => {
        const doc = client.docOf(model);
        if (!doc) {
          return undefined;
        }
        const edits = await client
          .connection(doc.server)
          .request<TextEdit[] | null>('textDocument/formatting', {
            textDocument: { uri: doc.uri },
            options: { tabSize: options.tabSize, insertSpaces: options.insertSpaces },
          });
        return (edits ?? []).flatMap((e) => {
          const place = doc.toModel(e.range);
          return place && place.model === model ? [{ range: place.range, text: e.newText }] : [];
        });
      });
    },
  });
}
