/** One notebook cell's Monaco editor, as tall as its content; Shift+Enter runs it. */
import { useEffect, useRef } from 'react';
import type { EditorHandle } from '../lib/editorHandle';
import { attachDebugGutter } from '../lib/debugGutter';
import { handleFor } from '../monaco/editorHandle';
import { enableInlineCompletions, registerInlineCompletions } from '../monaco/inlineCompletions';
import { monaco } from '../monaco/setup';
import type { IdeClient } from '../api/client';
import { useLspCell } from '../lsp/useLsp';
import { reportActivity } from '../lib/activityEditor';
import type { Services } from '../services';
import type { CellLinker } from '../lib/liveEditor';

interface Props {
  source: string;
  language: string;
  autoFocus: boolean;
  onChange: (source: string) => void;
  onRun: () => void;
  onSave: () => void;
  onFocus: () => void;
  /** The notebook's path: names the cell to the assistant. */
  path?: string;
  /** With a client, a code cell offers AI ghost-text completions. */
  client?: IdeClient;
  /** Called with a handle when the cell's editor gets focus (for insert / apply). */
  onEditorFocus?: (handle: EditorHandle) => void;
  /** With a key, breakpoints can be set in the cell's margin (code cells). */
  debugKey?: string;
  /** A code cell's id and the services: the cell joins its notebook's language server document. */
  lsp?: { services: Services; cellId: string };
  /** The cell's text in a live room: the editor is bound to it (y-monaco) while given. */
  live?: { linker: CellLinker; cellId: string };
  /** Shown, not edited (a live view without pair editing). */
  readOnly?: boolean;
}

const LINE_HEIGHT = 19;

export function CellEditor({
  source,
  language,
  autoFocus,
  onChange,
  onRun,
  onSave,
  onFocus,
  path = '',
  client,
  onEditorFocus,
  debugKey,
  lsp,
  live,
  readOnly = false,
}: Props) {
  const host = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const handlers = useRef({ onChange, onRun, onSave, onFocus, onEditorFocus });
  handlers.current = { onChange, onRun, onSave, onFocus, onEditorFocus };

  useEffect(() => {
    if (!host.current) {
      return;
    }
    const element = host.current;
    const editor = monaco.editor.create(element, {
      value: source,
      language,
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      wordWrap: 'on',
      lineNumbers: 'off',
      glyphMargin: debugKey !== undefined,
      folding: false,
      lineDecorationsWidth: 6,
      renderLineHighlight: 'none',
      overviewRulerLanes: 0,
      scrollbar: { vertical: 'hidden', alwaysConsumeMouseWheel: false },
      quickSuggestions: false,
      wordBasedSuggestions: 'off',
      fontSize: 14,
      lineHeight: LINE_HEIGHT,
      automaticLayout: true,
      readOnly,
    });
    const fit = () => {
      element.style.height = `${Math.max(editor.getContentHeight(), LINE_HEIGHT + 8)}px`;
      editor.layout();
    };
    fit();
    const disposables = [
      editor.onDidContentSizeChange(fit),
      editor.onDidChangeModelContent(() => handlers.current.onChange(editor.getValue())),
      editor.onDidFocusEditorText(() => {
        handlers.current.onFocus();
        handlers.current.onEditorFocus?.(handleFor(path, editor, 'cell'));
      }),
    ];
    const model = editor.getModel();
    if (client && model && language !== 'markdown' && language !== 'plaintext') {
      registerInlineCompletions(client);
      enableInlineCompletions(model, path);
    }
    editor.addCommand(monaco.KeyMod.Shift | monaco.KeyCode.Enter, () => handlers.current.onRun());
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => handlers.current.onSave());
    if (autoFocus) {
      editor.focus();
    }
    editorRef.current = editor;
    const stopGutter = debugKey === undefined ? null : attachDebugGutter(editor, () => debugKey);
    // A code cell's edits and pastes go on the notebook's activity timeline.
    const stopActivity = client && path ? reportActivity(editor, () => path, client) : null;
    return () => {
      stopGutter?.();
      stopActivity?.();
      disposables.forEach((d) => d.dispose());
      const model = editor.getModel();
      editor.dispose();
      model?.dispose();
      editorRef.current = null;
    };
    // The editor owns its text after creation; parents learn of edits through onChange.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useLspCell(editorRef, lsp?.services, path, lsp?.cellId);

  const linker = live?.linker;
  const liveId = live?.cellId;
  useEffect(() => {
    const editor = editorRef.current;
    if (!linker || !liveId || !editor) {
      return;
    }
    return linker.bindCell(liveId, editor);
  }, [linker, liveId]);

  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (model && model.getLanguageId() !== language) {
      monaco.editor.setModelLanguage(model, language);
    }
  }, [language]);

  return <div className="cell-editor" ref={host} data-testid="cell-editor" />;
}
