/** AI ghost-text completions through JupyterLab's inline completion API and our proxy. */
import type {
  CompletionHandler,
  IInlineCompletionContext,
  IInlineCompletionList,
  IInlineCompletionProvider,
} from '@jupyterlab/completer';
import { cleanCompletion, completionRequest, completionsAllowed } from './prompts';
import type { AIState } from './state';

/** Wait this long after the last keystroke before asking (JupyterLab's debouncer). */
export const INLINE_DELAY_MS = 350;

const NONE: IInlineCompletionList = { items: [] };

/** The path of the document a completer works in, or a name for an untitled one. */
function pathOf(context: IInlineCompletionContext): string {
  const widget = context.widget as unknown as { context?: { path?: unknown } };
  const path = widget?.context?.path;
  return typeof path === 'string' && path ? path : 'untitled';
}

/** Completions from the course's model; none when the policy gives hints only or is off. */
export class IdeInlineProvider implements IInlineCompletionProvider {
  readonly name = 'jupyter-ide AI';
  readonly identifier = '@jupyter-ide/jupyterlab:inline';
  readonly schema = {
    default: { debouncerDelay: INLINE_DELAY_MS, timeout: 15_000 },
  };
  private controller: AbortController | null = null;

  constructor(private readonly state: AIState) {}

  /** Ask the proxy for the text to insert at the cursor. */
  async fetch(
    request: CompletionHandler.IRequest,
    context: IInlineCompletionContext,
  ): Promise<IInlineCompletionList> {
    const model = this.state.model;
    if (!completionsAllowed(this.state.policy?.mode ?? null) || !model || this.state.unavailable) {
      return NONE;
    }
    const prefix = request.text.slice(0, request.offset);
    if (!prefix.trim()) {
      return NONE;
    }
    const suffix = request.text.slice(request.offset);
    const linePrefix = prefix.slice(prefix.lastIndexOf('\n') + 1);
    // A newer keystroke's request replaces this one.
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    try {
      const text = await this.state.api.complete(
        completionRequest(model, pathOf(context), prefix, suffix),
        controller.signal,
      );
      const insertText = cleanCompletion(text, linePrefix);
      return insertText ? { items: [{ insertText }] } : NONE;
    } catch {
      // A quota reached or a provider down: no ghost text (the chat panel says why).
      return NONE;
    } finally {
      if (this.controller === controller) {
        this.controller = null;
      }
    }
  }
}
