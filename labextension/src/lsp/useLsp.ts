/** Hooks joining editors to the LSP client, which loads (as its own chunk) on first use. */
import { useEffect, useRef, type RefObject } from 'react';
import type { monaco } from '../monaco/setup';
import { languageForPath } from '../lib/languages';
import type { Services } from '../services';
import { lspLanguage } from './languages';

type Editor = monaco.editor.ICodeEditor;
type Client = import('./client').LspClient;
type Handle = import('./client').Handle;

/** The page's client (null when this server has no language servers). */
async function load(services: Services): Promise<Client | null> {
  const { getClient } = await import('./client');
  try {
    return await getClient(services);
  } catch (e) {
    console.warn('Language servers unavailable:', e);
    return null;
  }
}

/** Keep a file editor's text in its language server (diagnostics, completion, navigation...). */
export function useLspFile(
  editor: RefObject<Editor | null>,
  path: string,
  services: Services,
): void {
  useEffect(() => {
    const instance = editor.current;
    // By the path: after a rename the model's language follows only later.
    if (!instance || !lspLanguage(languageForPath(path))) {
      return;
    }
    let handle: Handle | null = null;
    let gone = false;
    void load(services).then((client) => {
      if (!gone && client) {
        handle = client.attachFile(instance, path);
      }
    });
    return () => {
      gone = true;
      handle?.dispose();
    };
  }, [editor, path, services]);
}

/** Keep a notebook's code cells (ids in order) in its language server as one document. */
export function useLspNotebook(
  services: Services,
  path: string,
  language: string,
  codeCells: string[] | null,
): void {
  const handle = useRef<(Handle & { setOrder(ids: string[]): void }) | null>(null);
  const order = useRef<string[]>([]);
  order.current = codeCells ?? [];
  const ready = codeCells !== null;
  useEffect(() => {
    if (!ready || !lspLanguage(language)) {
      return;
    }
    let gone = false;
    void load(services).then((client) => {
      if (!gone && client) {
        handle.current = client.attachNotebook(path, language);
        handle.current?.setOrder(order.current);
        notebookReady(path);
      }
    });
    return () => {
      gone = true;
      handle.current?.dispose();
      handle.current = null;
    };
  }, [services, path, language, ready]);
  const key = (codeCells ?? []).join('\n');
  useEffect(() => {
    handle.current?.setOrder(key ? key.split('\n') : []);
  }, [key]);
}

/** Cells waiting for their notebook's document, by notebook path. */
const waiting = new Map<string, Set<() => void>>();

/** The notebook's document exists: cells that came first join it now. */
function notebookReady(path: string): void {
  for (const join of waiting.get(path) ?? []) {
    join();
  }
}

/** Join a code cell's editor to its notebook's document. */
export function useLspCell(
  editor: RefObject<Editor | null>,
  services: Services | undefined,
  path: string,
  cellId: string | undefined,
): void {
  useEffect(() => {
    const instance = editor.current;
    const language = instance?.getModel()?.getLanguageId() ?? '';
    if (!instance || !services || !cellId || !lspLanguage(language)) {
      return;
    }
    let handle: Handle | null = null;
    let gone = false;
    const join = () => {
      void load(services).then((client) => {
        if (!gone && client && !handle) {
          handle = client.attachCell(path, cellId, instance);
        }
      });
    };
    const set = waiting.get(path) ?? new Set();
    set.add(join);
    waiting.set(path, set);
    join();
    return () => {
      gone = true;
      set.delete(join);
      handle?.dispose();
    };
  }, [editor, services, path, cellId]);
}
