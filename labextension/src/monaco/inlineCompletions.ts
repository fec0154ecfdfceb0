/** AI completions as ghost text in Monaco: debounced, and cancelled by the next keystroke. */
import type { IdeClient } from '../api/client';
import { cleanCompletion, completionRequest } from '../lib/aiContext';
import { debounced } from '../lib/debounce';
import { inlineSettings } from '../lib/inlineSettings';
import { monaco } from './setup';

export const INLINE_DELAY_MS = 350;

// Only editors that asked for completions get them (not diff views or output areas).
const enabledModels = new WeakMap<monaco.editor.ITextModel, string>();
let registered = false;

/** Offer AI completions in this model's editor; ``path`` names the file to the model. */
export function enableInlineCompletions(model: monaco.editor.ITextModel, path: string): void {
  enabledModels.set(model, path);
}

/** Register the provider once for every language; it asks the server through ``client``. */
export function registerInlineCompletions(client: IdeClient): void {
  if (registered) {
    return;
  }
  registered = true;
  monaco.languages.registerInlineCompletionsProvider('*', {
    async provideInlineCompletions(model, position, _context, token) {
      const settings = inlineSettings();
      const path = enabledModels.get(model);
      if (!settings.enabled || !settings.model || path === undefined) {
        return { items: [] };
      }
      const prefix = model.getValueInRange(
        new monaco.Range(1, 1, position.lineNumber, position.column),
      );
      if (!prefix.trim()) {
        return { items: [] };
      }
      const last = model.getLineCount();
      const suffix = model.getValueInRange(
        new monaco.Range(position.lineNumber, position.column, last, model.getLineMaxColumn(last)),
      );
      const linePrefix = model.getLineContent(position.lineNumber).slice(0, position.column - 1);
      const request = completionRequest(
        settings.model,
        path,
        model.getLanguageId(),
        prefix,
        suffix,
      );
      let text: string | null;
      try {
        text = await debounced(INLINE_DELAY_MS, token, (signal) =>
          client.complete(request, signal),
        );
      } catch {
        // A quota reached or a provider down: no ghost text; the assistant panel says why.
        return { items: [] };
      }
      const insertText = text === null ? '' : cleanCompletion(text, linePrefix);
      if (!insertText || token.isCancellationRequested) {
        return { items: [] };
      }
      return {
        items: [
          {
            insertText,
            range: new monaco.Range(
              position.lineNumber,
              position.column,
              position.lineNumber,
              position.column,
            ),
          },
        ],
      };
    },
    disposeInlineCompletions() {
      // Nothing is held per list.
    },
  });
}
