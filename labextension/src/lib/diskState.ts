/** What a document knows about its file on the server, and what to do when saving. */

/** Autosave this long after the last edit. */
export const AUTOSAVE_MS = 1500;

export interface DiskState {
  /** The server's last_modified of the version this editor loaded or last saved. */
  knownModified: string | null;
  /** True when the editor holds changes not yet saved. */
  dirty: boolean;
}

export type SaveDecision = 'save' | 'conflict';
export type FocusDecision = 'nothing' | 'reload' | 'conflict';

function moved(known: string | null, remote: string | null): boolean {
  if (known === null || remote === null) {
    return false;
  }
  return new Date(remote).getTime() !== new Date(known).getTime();
}

/** Decide whether a save may go ahead or would overwrite a newer version on disk. */
export function decideSave(state: DiskState, remoteModified: string | null): SaveDecision {
  return moved(state.knownModified, remoteModified) ? 'conflict' : 'save';
}

/** Decide what to do when the window regains focus and the file may have moved on. */
export function decideOnFocus(state: DiskState, remoteModified: string | null): FocusDecision {
  if (!moved(state.knownModified, remoteModified)) {
    return 'nothing';
  }
  return state.dirty ? 'conflict' : 'reload';
}
