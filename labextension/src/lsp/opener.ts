/** How the LSP client opens a file in the app (go to definition into another file). */

type Opener = (path: string) => void;
let opener: Opener | null = null;

/** The app says how to open a file in a tab (and bring it to the front). */
export function setFileOpener(open: Opener | null): void {
  opener = open;
}

/** Open a file in the app; false when no app listens. */
export function openFile(path: string): boolean {
  if (!opener) {
    return false;
  }
  opener(path);
  return true;
}
