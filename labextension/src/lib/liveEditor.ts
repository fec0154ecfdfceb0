/** The student's side of the live view, for the editor and the app: loaded only in a course. */
import type { IdeClient } from '../api/client';
import type { monaco } from '../monaco/setup';
import type { Services } from '../services';
import type { Cell, Notebook } from './notebook';

let studentOnce: Promise<string | null> | null = null;

/** The user's name when they are a student of some course, else null (asked once a page). */
export function liveStudent(client: IdeClient): Promise<string | null> {
  studentOnce ??= Promise.all([client.courses(), client.me()])
    .then(([courses, me]) => (courses.some((c) => c.myRole === 'student') ? me.name : null))
    .catch(() => null);
  return studentOnce;
}

/**
 * Make an open editor a peer of its file's live room when the user is a student of a course
 * (nothing changes otherwise: saving stays the editor's). Returns what leaves the room.
 */
export function attachLive(
  services: Services,
  editor: monaco.editor.IStandaloneCodeEditor,
  path: string,
): () => void {
  let leave: (() => void) | null = null;
  let gone = false;
  void liveStudent(services.ide).then(async (student) => {
    if (!student || gone) {
      return;
    }
    const { bindOwnEditor } = await import('./liveBinding');
    if (!gone) {
      leave = bindOwnEditor(services.settings, student, editor, path);
    }
  });
  return () => {
    gone = true;
    leave?.();
  };
}

/** Join one's presence room while a student of a course; returns what leaves it. */
export function attachPresence(services: Services): () => void {
  let leave: (() => void) | null = null;
  let gone = false;
  void liveStudent(services.ide).then(async (student) => {
    if (!student || gone) {
      return;
    }
    const { joinPresence } = await import('./liveBinding');
    if (!gone) {
      leave = joinPresence(services.settings, student);
    }
  });
  return () => {
    gone = true;
    leave?.();
  };
}

/** A notebook larger than this (as JSON) is not joined live: the server shows up to 4 MB. */
export const LIVE_NOTEBOOK_MAX = 4 * 1024 * 1024;

/** What binds a notebook's cell editors to their room (the student's own, or a viewer's). */
export interface CellLinker {
  bindCell: (id: string, editor: monaco.editor.IStandaloneCodeEditor) => () => void;
}

/** A student's notebook editor's link to its room: write after each change, bind cells. */
export interface OwnNotebookLink extends CellLinker {
  push: (notebook: Notebook) => void;
}

/**
 * Make a notebook editor a writable peer of its live room when the user is a student of a
 * course: ``onLink`` gets the link once it is up (never otherwise). Returns what leaves the room.
 */
export function attachLiveNotebook(
  services: Services,
  path: string,
  current: () => Notebook | null,
  onRemote: (cells: Cell[]) => void,
  onLink: (link: OwnNotebookLink | null) => void,
): () => void {
  let leave: (() => void) | null = null;
  let gone = false;
  void liveStudent(services.ide).then(async (student) => {
    const notebook = current();
    if (!student || gone || !notebook || JSON.stringify(notebook).length > LIVE_NOTEBOOK_MAX) {
      return;
    }
    const { bindOwnNotebook } = await import('./liveBinding');
    if (!gone) {
      const link = bindOwnNotebook(services.settings, student, path, current, onRemote);
      leave = link.close;
      onLink(link);
    }
  });
  return () => {
    gone = true;
    leave?.();
    onLink(null);
  };
}
