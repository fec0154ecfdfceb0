/** Report a Monaco editor's edits (counted, a few seconds apart) and pastes to the server. */
import type { IdeClient } from '../api/client';
import { monaco } from '../monaco/setup';
import { EditCounter } from './activity';

const TICK_MS = 1000;

/** Send a report; a failed one is dropped (the editor never waits for or fails on it). */
function quietly(send: () => Promise<void>): void {
  void Promise.resolve()
    .then(send)
    .catch(() => undefined);
}

/** Watch ``editor``; return a function that stops watching (and sends what is counted). */
export function reportActivity(
  editor: monaco.editor.IStandaloneCodeEditor,
  path: () => string,
  client: IdeClient,
): () => void {
  const counter = new EditCounter();
  const send = () => {
    const report = counter.take(Date.now());
    if (report) {
      quietly(() => client.reportActivity({ kind: 'edit', path: path(), ...report }));
    }
  };
  const changes = editor.onDidChangeModelContent((e) => {
    if (e.isFlush) {
      return; // the file was (re)loaded, not edited
    }
    const chars = e.changes.reduce((n, c) => n + c.text.length, 0);
    counter.add(chars, Date.now());
  });
  const pastes = editor.onDidPaste((e) => {
    const text = editor.getModel()?.getValueInRange(e.range) ?? '';
    if (text) {
      counter.forget(text.length); // the change it made was counted as typing: it is not
      // The server decides what counts as a paste and looks for where it came from.
      quietly(() => client.reportActivity({ kind: 'paste', path: path(), text }));
    }
  });
  const timer = window.setInterval(() => {
    if (counter.due(Date.now())) {
      send();
    }
  }, TICK_MS);
  return () => {
    window.clearInterval(timer);
    changes.dispose();
    pastes.dispose();
    send();
  };
}
