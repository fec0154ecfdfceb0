/** What the side panels may do with an open file editor, without knowing it is Monaco. */
import type { EditorContext } from './aiContext';
import type { Range } from './patch';

export interface EditorHandle {
  readonly path: string;
  /** A whole file, or one notebook cell (whose text is not the file's). */
  readonly kind: 'file' | 'cell';
  /** The whole text, as in the editor now (saved or not). */
  getValue(): string;
  /** The file, selection and cursor line, for the assistant. */
  context(): EditorContext;
  /** The selection as character offsets, or null when nothing is selected. */
  selectionRange(): Range | null;
  /** Put text at the cursor (replacing the selection), as one undoable edit. */
  insertAtCursor(text: string): void;
  /** Replace the whole text, as one undoable edit. */
  replaceAll(text: string): void;
}
