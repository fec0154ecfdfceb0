/** An EditorHandle over a Monaco editor: what the side panels may read and change. */
import type { EditorHandle } from '../lib/editorHandle';
import { monaco } from './setup';

/** A handle on a Monaco editor for the side panels: context, insert, replace. */
export function handleFor(
  path: string,
  editor: monaco.editor.IStandaloneCodeEditor,
  kind: EditorHandle['kind'] = 'file',
): EditorHandle {
  const model = () => {
    const m = editor.getModel();
    if (!m) {
      throw new Error(`The editor of ${path} is closed`);
    }
    return m;
  };
  return {
    path,
    kind,
    getValue: () => model().getValue(),
    context: () => {
      const m = model();
      const selection = editor.getSelection();
      return {
        path,
        language: m.getLanguageId(),
        content: m.getValue(),
        selection: selection ? m.getValueInRange(selection) : '',
        cursorLine: editor.getPosition()?.lineNumber ?? 1,
      };
    },
    selectionRange: () => {
      const selection = editor.getSelection();
      if (!selection || selection.isEmpty()) {
        return null;
      }
      const m = model();
      return {
        start: m.getOffsetAt(selection.getStartPosition()),
        end: m.getOffsetAt(selection.getEndPosition()),
      };
    },
    insertAtCursor: (text) => {
      const selection = editor.getSelection() ?? new monaco.Selection(1, 1, 1, 1);
      editor.pushUndoStop();
      editor.executeEdits('ide-insert', [{ range: selection, text, forceMoveMarkers: true }]);
      editor.pushUndoStop();
      editor.focus();
    },
    replaceAll: (text) => {
      editor.pushUndoStop();
      editor.executeEdits('ide-apply', [{ range: model().getFullModelRange(), text }]);
      editor.pushUndoStop();
      editor.focus();
    },
  };
}
