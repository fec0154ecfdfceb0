/** Run the open file in the sandbox: stdin in, verdict, time, memory and outputs out. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage, type IdeClient } from '../api/client';
import type { EditorHandle } from '../lib/editorHandle';
import {
  formatUsage,
  judgeLanguage,
  pollUntilDone,
  runError,
  verdictKind,
  type Submission,
} from '../lib/judge';
import type { Notify } from './Toasts';

export interface RunTrigger {
  id: number;
  path: string;
}

interface Props {
  client: IdeClient;
  trigger: RunTrigger | null;
  getEditor: () => EditorHandle | null;
  onRunning: (running: boolean) => void;
  onError: (error: string) => void;
  onExplain?: (error: string) => void;
  onClose: () => void;
  notify: Notify;
}

function Section({ title, text, kind }: { title: string; text: string | null; kind: string }) {
  if (!text) {
    return null;
  }
  return (
    <div className={`run-section run-${kind}`} data-testid={`run-${kind}`}>
      <div className="run-section-title">{title}</div>
      <pre>{text}</pre>
    </div>
  );
}

export default function RunPanel({
  client,
  trigger,
  getEditor,
  onRunning,
  onError,
  onExplain,
  onClose,
  notify,
}: Props) {
  const [stdin, setStdin] = useState<Record<string, string>>({});
  const [path, setPath] = useState<string | null>(null);
  const [result, setResult] = useState<Submission | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const handled = useRef<number | null>(null);
  const stdinRef = useRef(stdin);
  stdinRef.current = stdin;

  const run = useCallback(
    async (file: string) => {
      const language = judgeLanguage(file);
      const editor = getEditor();
      if (!language || !editor || editor.path !== file || editor.kind !== 'file') {
        notify('error', `${file} cannot be run here.`);
        return;
      }
      abort.current?.abort();
      const controller = new AbortController();
      abort.current = controller;
      setPath(file);
      setResult(null);
      setProblem(null);
      setRunning(true);
      onRunning(true);
      try {
        const token = await client.submit(
          {
            source: editor.getValue(),
            languageId: language.id,
            stdin: stdinRef.current[file] ?? '',
          },
          controller.signal,
        );
        // The timeline links the run to its file; a failed report never stops the run.
        void Promise.resolve()
          .then(() => client.reportActivity({ kind: 'run', path: file, token }))
          .catch(() => undefined);
        const [done] = await pollUntilDone(
          () => client.submissions([token], controller.signal),
          ([s]) => setResult(s ?? null),
          controller.signal,
        );
        const error = done ? runError(done) : null;
        if (error) {
          onError(error);
        }
      } catch (e) {
        if (!controller.signal.aborted) {
          setProblem(await errorMessage(e));
        }
      } finally {
        if (abort.current === controller) {
          abort.current = null;
          setRunning(false);
          onRunning(false);
        }
      }
    },
    [client, getEditor, notify, onError, onRunning],
  );

  useEffect(() => {
    if (trigger && handled.current !== trigger.id) {
      handled.current = trigger.id;
      void run(trigger.path);
    }
  }, [trigger, run]);

  useEffect(() => () => abort.current?.abort(), []);

  const language = path ? judgeLanguage(path) : null;
  const kind = result ? verdictKind(result) : null;
  const error = result ? runError(result) : null;
  return (
    <div className="run-panel-body" data-testid="run-panel">
      <div className="panel-header">
        <strong>Run</strong>
        {path && (
          <span className="muted">
            {path} · {language?.name}
          </span>
        )}
        <span className="toolbar-spacer" />
        {running && (
          <button data-testid="run-stop" onClick={() => abort.current?.abort()}>
            Stop waiting
          </button>
        )}
        <button aria-label="Close the run panel" onClick={onClose}>
          ×
        </button>
      </div>
      <div className="run-columns">
        <label className="run-stdin">
          <span className="muted">Input (stdin)</span>
          <textarea
            data-testid="run-stdin"
            value={path ? (stdin[path] ?? '') : ''}
            disabled={!path}
            spellCheck={false}
            onChange={(e) => path && setStdin((prev) => ({ ...prev, [path]: e.target.value }))}
          />
        </label>
        <div className="run-output" data-testid="run-output">
          {problem && (
            <div className="banner banner-error" data-testid="run-problem">
              {problem}
            </div>
          )}
          {running && !result && <div className="muted">Submitting…</div>}
          {result && (
            <>
              <div className="run-verdict-line">
                <span className={`verdict verdict-${kind}`} data-testid="run-verdict">
                  {result.status.description}
                </span>
                <span className="muted" data-testid="run-usage">
                  {formatUsage(result)}
                </span>
                {result.exitCode !== null && result.exitCode !== 0 && (
                  <span className="muted">exit code {result.exitCode}</span>
                )}
                {error && onExplain && (
                  <button
                    className="explain-error"
                    data-testid="run-explain"
                    onClick={() => onExplain(error)}
                  >
                    ✦ Explain this error
                  </button>
                )}
              </div>
              <Section title="Compiler" text={result.compileOutput} kind="compile" />
              <Section title="Output" text={result.stdout} kind="stdout" />
              <Section title="Errors" text={result.stderr} kind="stderr" />
              <Section title="Message" text={result.message} kind="message" />
            </>
          )}
          {!running && !result && !problem && (
            <div className="muted">Run the open file with ▶ Run or F5.</div>
          )}
        </div>
      </div>
    </div>
  );
}
