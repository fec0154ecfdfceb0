/** The student's side of the live view, for the editor and the app: loaded only in a course. */
import type { IdeClient } from '../api/client';
import type { monaco } from '../monaco/setup';
import type { Services } from '../services';

let studentOnce: Promise<boolean> | null = null;

/** Whether the user is a student of some course (asked once per page). */
export function isStudent(client: IdeClient): Promise<boolean> {
  studentOnce ??= client
    .courses()
    .then((courses) => courses.some((c) => c.myRole === 'student'))
    .catch(() => false);
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
  void isStudent(services.ide).then(async (student) => {
    if (!student || gone) {
      return;
    }
    const { bindOwnEditor } = await import('./liveBinding');
    if (!gone) {
      leave = bindOwnEditor(services.settings, editor, path);
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
  void isStudent(services.ide).then(async (student) => {
    if (!student || gone) {
      return;
    }
    const { joinPresence } = await import('./liveBinding');
    if (!gone) {
      leave = joinPresence(services.settings);
    }
  });
  return () => {
    gone = true;
    leave?.();
  };
}
