/** A course member's file as they type it: Monaco bound to the file's live room, read-only. */
import type { ServerConnection } from '@jupyterlab/services';
import { useEffect, useRef, useState } from 'react';
import { languageForPath } from '../lib/languages';
import { liveStatusLabel, type LiveState, type LiveTarget } from '../lib/live';
import { monaco } from '../monaco/setup';

interface Props {
  settings: ServerConnection.ISettings;
  target: LiveTarget;
  /** The course lets instructors write (pair editing): the editor is writable then. */
  writable: boolean;
  onClose: () => void;
  /** Test ids of the frame and the line quote (the help queue keeps its own). */
  testId?: string;
}

export function LiveFile({ settings, target, writable, onClose, testId = 'live-file' }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<LiveState>('connecting');
  const [lineText, setLineText] = useState<string | null>(null);
  const { course, student, path, line } = target;

  useEffect(() => {
    if (!host.current) {
      return;
    }
    const editor = monaco.editor.create(host.current, {
      value: '',
      language: languageForPath(path),
      readOnly: !writable,
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      scrollBeyondLastLine: false,
    });
    const model = editor.getModel();
    let decorations: monaco.editor.IEditorDecorationsCollection | null = null;
    let revealed = false;
    const showLine = () => {
      if (!model || !line || line > model.getLineCount()) {
        setLineText(null);
        return;
      }
      setLineText(model.getLineContent(line));
      if (!revealed) {
        revealed = true;
        editor.revealLineInCenter(line);
        editor.setPosition({ lineNumber: line, column: 1 });
      }
      decorations?.clear();
      decorations = editor.createDecorationsCollection([
        {
          range: new monaco.Range(line, 1, line, 1),
          options: { isWholeLine: true, className: 'live-line' },
        },
      ]);
    };
    const changes = model?.onDidChangeContent(showLine);
    let leave: (() => void) | null = null;
    let gone = false;
    void import('../lib/liveBinding').then(({ bindViewer }) => {
      if (gone) {
        return;
      }
      leave = bindViewer(settings, editor, { course, student }, path, (s) => {
        setState(s);
        if (s === 'synced') {
          showLine();
        }
      });
    });
    return () => {
      gone = true;
      leave?.();
      changes?.dispose();
      editor.dispose();
      model?.dispose();
    };
  }, [settings, course, student, path, line, writable]);

  const status = liveStatusLabel(state, writable);
  return (
    <div className="help-file live-file" data-testid={testId} aria-label={`${student}: ${path}`}>
      <div className="panel-header">
        <span className="panel-title">
          {student}: {path}
          {line ? `:${line}` : ''} {writable ? '(pair editing)' : '(read-only)'}
        </span>
        <span className="toolbar-spacer" />
        <span className="muted" data-testid="live-file-state" data-state={state}>
          {status}
        </span>
        <button aria-label="Close the file" data-testid={`${testId}-close`} onClick={onClose}>
          ×
        </button>
      </div>
      {line !== null && lineText !== null && (
        <div className="muted live-line-quote" data-testid={`${testId}-line`} data-line={line}>
          line {line}: <code>{lineText}</code>
        </div>
      )}
      <div ref={host} className="live-file-editor" style={{ height: '45vh', minHeight: 200 }} />
    </div>
  );
}
