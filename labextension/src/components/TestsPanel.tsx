/** A file's test cases (stdin and expected output), kept beside it and run all at once. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../api/client';
import type { EditorHandle } from '../lib/editorHandle';
import {
  chunks,
  formatUsage,
  isPending,
  judgeLanguage,
  newTestCase,
  outputDiff,
  parseTests,
  pollUntilDone,
  serializeTests,
  testsPathFor,
  ACCEPTED,
  type Submission,
  type TestCase,
} from '../lib/judge';
import type { Services } from '../services';
import type { Notify } from './Toasts';

const BATCH = 20;
const SAVE_MS = 800;

type Outcome = { submission: Submission } | { error: string };

interface Props {
  services: Services;
  path: string | null;
  visible: boolean;
  getEditor: () => EditorHandle | null;
  notify: Notify;
}

function isNotFound(e: unknown): boolean {
  return (e as { response?: { status?: number } })?.response?.status === 404;
}

function OutcomeView({ testCase, outcome }: { testCase: TestCase; outcome: Outcome }) {
  if ('error' in outcome) {
    return <div className="banner banner-error">{outcome.error}</div>;
  }
  const s = outcome.submission;
  if (isPending(s.status)) {
    return <div className="muted">{s.status.description}…</div>;
  }
  if (s.status.id === ACCEPTED) {
    return <div className="muted">{formatUsage(s)}</div>;
  }
  const detail = s.compileOutput || s.stderr || s.message;
  return (
    <div className="test-outcome">
      <div className="muted">
        {s.status.description}
        {formatUsage(s) ? ` · ${formatUsage(s)}` : ''}
      </div>
      {s.status.id === 4 || !detail ? (
        <pre className="test-diff" data-testid="test-diff">
          {outputDiff(testCase.expected, s.stdout).map((line, i) => (
            <div key={i} className={`diff-${line.kind}`}>
              {line.kind === 'expected' ? '- ' : line.kind === 'actual' ? '+ ' : '  '}
              {line.text}
            </div>
          ))}
        </pre>
      ) : (
        <pre className="test-detail">{detail}</pre>
      )}
    </div>
  );
}

export default function TestsPanel({ services, path, visible, getEditor, notify }: Props) {
  const [cases, setCases] = useState<TestCase[]>([]);
  const [loadedFor, setLoadedFor] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [outcomes, setOutcomes] = useState<Record<string, Outcome>>({});
  const [running, setRunning] = useState(false);
  const unsaved = useRef(false);
  const saveTimer = useRef<number | undefined>(undefined);
  const abort = useRef<AbortController | null>(null);
  const language = path ? judgeLanguage(path) : null;
  const testsPath = path ? testsPathFor(path) : null;

  const save = useCallback(
    async (file: string, list: TestCase[]) => {
      window.clearTimeout(saveTimer.current);
      try {
        await services.contents.save(file, {
          type: 'file',
          format: 'text',
          content: serializeTests(list),
        });
        unsaved.current = false;
      } catch (e) {
        notify('error', `Could not save the tests in ${file}: ${await errorMessage(e)}`);
      }
    },
    [notify, services.contents],
  );

  useEffect(() => {
    if (!visible || !testsPath || loadedFor === testsPath) {
      return;
    }
    let stale = false;
    (async () => {
      try {
        const model = await services.contents.get(testsPath, {
          type: 'file',
          format: 'text',
          content: true,
        });
        if (!stale) {
          setCases(parseTests(String(model.content ?? '')));
          setProblem(null);
        }
      } catch (e) {
        if (!stale) {
          setCases([]);
          setProblem(isNotFound(e) ? null : await errorMessage(e));
        }
      }
      if (!stale) {
        setOutcomes({});
        setLoadedFor(testsPath);
      }
    })();
    return () => {
      stale = true;
    };
  }, [visible, testsPath, loadedFor, services.contents]);

  const change = (next: TestCase[]) => {
    setCases(next);
    if (!testsPath) {
      return;
    }
    unsaved.current = true;
    window.clearTimeout(saveTimer.current);
    saveTimer.current = window.setTimeout(() => void save(testsPath, next), SAVE_MS);
  };

  const update = (id: string, field: 'name' | 'stdin' | 'expected', value: string) =>
    change(cases.map((c) => (c.id === id ? { ...c, [field]: value } : c)));

  const runAll = async () => {
    const editor = getEditor();
    if (
      !path ||
      !language ||
      !editor ||
      editor.path !== path ||
      editor.kind !== 'file' ||
      !testsPath
    ) {
      notify('error', 'Open the file to test in the editor first.');
      return;
    }
    if (unsaved.current) {
      await save(testsPath, cases);
    }
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setRunning(true);
    setOutcomes({});
    const source = editor.getValue();
    try {
      const tokens: { id: string; token: string }[] = [];
      const found: Record<string, Outcome> = {};
      for (const group of chunks(cases, BATCH)) {
        const answers = await services.ide.submitBatch(
          group.map((c) => ({
            source,
            languageId: language.id,
            stdin: c.stdin,
            expectedOutput: c.expected,
          })),
          controller.signal,
        );
        group.forEach((c, i) => {
          const answer = answers[i];
          if (answer && 'token' in answer) {
            tokens.push({ id: c.id, token: answer.token });
          } else {
            found[c.id] = { error: answer?.error ?? 'The judge did not answer for this case' };
          }
        });
      }
      setOutcomes({ ...found });
      await pollUntilDone(
        async () =>
          (
            await Promise.all(
              chunks(tokens, BATCH).map((g) =>
                services.ide.submissions(
                  g.map((t) => t.token),
                  controller.signal,
                ),
              ),
            )
          ).flat(),
        (subs) => {
          const next = { ...found };
          subs.forEach((s, i) => {
            const id = tokens[i]?.id;
            if (id) {
              next[id] = { submission: s };
            }
          });
          setOutcomes(next);
        },
        controller.signal,
      );
    } catch (e) {
      if (!controller.signal.aborted) {
        notify('error', `Could not run the tests: ${await errorMessage(e)}`);
      }
    } finally {
      if (abort.current === controller) {
        abort.current = null;
        setRunning(false);
      }
    }
  };

  useEffect(
    () => () => {
      abort.current?.abort();
      window.clearTimeout(saveTimer.current);
    },
    [],
  );

  if (!path || !language) {
    return (
      <p className="muted panel-note">
        Open a C, C++, Java, JavaScript, Go, Rust, Bash or Python file to give it tests.
      </p>
    );
  }
  const done = Object.values(outcomes).filter(
    (o) => 'error' in o || !isPending(o.submission.status),
  );
  const passed = done.filter((o) => 'submission' in o && o.submission.status.id === ACCEPTED);
  return (
    <div className="tests-panel" data-testid="tests-panel">
      <div className="panel-header">
        <span className="panel-title" title={testsPath ?? ''}>
          Tests of {path}
        </span>
        <span className="toolbar-spacer" />
        <button
          data-testid="tests-add"
          onClick={() => change([...cases, newTestCase(cases.length + 1)])}
        >
          + Case
        </button>
        <button
          className="primary"
          data-testid="tests-run"
          disabled={running || !cases.length}
          onClick={() => void runAll()}
        >
          {running ? 'Running…' : '▶ Run all'}
        </button>
      </div>
      {problem && <div className="banner banner-error">{problem}</div>}
      {done.length > 0 && (
        <div
          className={`tests-summary ${passed.length === cases.length ? 'tests-all-passed' : ''}`}
          data-testid="tests-summary"
        >
          {passed.length} / {cases.length} passed
        </div>
      )}
      {!cases.length && (
        <p className="muted panel-note" data-testid="tests-empty">
          No tests yet. Add a case: the input given on stdin and the output expected. They are kept
          in {testsPath}.
        </p>
      )}
      <ol className="test-list">
        {cases.map((c) => {
          const outcome = outcomes[c.id];
          const state = !outcome
            ? 'none'
            : 'error' in outcome
              ? 'failed'
              : isPending(outcome.submission.status)
                ? 'pending'
                : outcome.submission.status.id === ACCEPTED
                  ? 'passed'
                  : 'failed';
          return (
            <li key={c.id} className={`test-case test-${state}`} data-testid="test-case">
              <div className="test-head">
                <span className={`test-badge badge-${state}`} data-testid="test-state">
                  {state === 'none' ? '○' : state === 'pending' ? '…' : state}
                </span>
                <input
                  aria-label="Test name"
                  className="test-name"
                  value={c.name}
                  onChange={(e) => update(c.id, 'name', e.target.value)}
                />
                <button
                  aria-label={`Delete ${c.name}`}
                  data-testid="test-delete"
                  onClick={() => change(cases.filter((x) => x.id !== c.id))}
                >
                  ×
                </button>
              </div>
              <div className="test-fields">
                <label>
                  <span className="muted">stdin</span>
                  <textarea
                    data-testid="test-stdin"
                    spellCheck={false}
                    value={c.stdin}
                    onChange={(e) => update(c.id, 'stdin', e.target.value)}
                  />
                </label>
                <label>
                  <span className="muted">expected output</span>
                  <textarea
                    data-testid="test-expected"
                    spellCheck={false}
                    value={c.expected}
                    onChange={(e) => update(c.id, 'expected', e.target.value)}
                  />
                </label>
              </div>
              {outcome && <OutcomeView testCase={c} outcome={outcome} />}
            </li>
          );
        })}
      </ol>
    </div>
  );
}
