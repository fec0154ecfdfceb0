/** The instructor's grading of one assignment: each submission, every test, manual points. */
import { useCallback, useEffect, useState } from 'react';
import { refusal, type IdeClient } from '../api/client';
import type { Assignment, GradedSubmission, LineComment } from '../lib/assignments';
import { formatWhen } from '../lib/time';
import type { Notify } from './Toasts';

interface Props {
  client: IdeClient;
  course: string;
  assignment: Assignment;
  notify: Notify;
  /** A grade was saved: the gradebook should be read again. */
  onChanged?: () => void;
}

function score(n: number | null): string {
  return n === null ? '–' : String(Math.round(n * 100) / 100);
}

/** The items manual points may be given for: rubric items, then tests. */
function gradable(a: Assignment, s: GradedSubmission): { name: string; max: number }[] {
  const tests = s.results.map((r) => ({ name: r.name, max: r.maxScore }));
  return [...a.rubric.map((r) => ({ name: r.name, max: r.points })), ...tests];
}

export function GradingView({ client, course, assignment, notify, onChanged }: Props) {
  const [subs, setSubs] = useState<GradedSubmission[] | null>(null);
  const [chosen, setChosen] = useState<number | null>(null);
  const [points, setPoints] = useState<Record<string, string>>({});
  const [comments, setComments] = useState<LineComment[]>([]);
  const [draft, setDraft] = useState({ path: '', line: '1', text: '' });
  const [problem, setProblem] = useState<string | null>(null);
  const [code, setCode] = useState<{ id: number; path: string; lines: string[] } | null>(null);

  const load = useCallback(async () => {
    try {
      setSubs(await client.gradedSubmissions(course, assignment.name));
      setProblem(null);
    } catch (e) {
      setProblem((await refusal(e)).message);
    }
  }, [client, course, assignment.name]);

  useEffect(() => {
    void load();
  }, [load]);

  const current = subs?.find((s) => s.id === chosen) ?? null;

  const showFile = useCallback(
    async (id: number, path: string) => {
      if (!path) {
        setCode(null);
        return;
      }
      try {
        const text = await client.submissionFile(course, assignment.name, id, path);
        setCode({ id, path, lines: text.split('\n') });
      } catch (e) {
        setProblem((await refusal(e)).message);
      }
    },
    [client, course, assignment.name],
  );

  const choose = (s: GradedSubmission) => {
    setChosen(s.id);
    setPoints(Object.fromEntries(Object.entries(s.manualPoints).map(([k, v]) => [k, String(v)])));
    setComments(s.comments);
    setDraft({ path: s.files[0] ?? '', line: '1', text: '' });
    void showFile(s.id, s.files[0] ?? '');
  };

  const regradeAll = async () => {
    try {
      await client.regradeSubmission(course, assignment.name, 'all');
      notify('info', `Every submission of ${assignment.name} queued to be graded again`);
      await load();
    } catch (e) {
      setProblem((await refusal(e)).message);
    }
  };

  const save = async (s: GradedSubmission) => {
    const given: Record<string, number> = {};
    for (const [item, value] of Object.entries(points)) {
      if (value.trim() === '') {
        continue;
      }
      const n = Number(value);
      if (!Number.isFinite(n)) {
        setProblem(`Points for ${item} must be a number`);
        return;
      }
      given[item] = n;
    }
    try {
      const saved = await client.gradeSubmission(course, assignment.name, s.id, {
        points: given,
        comments,
      });
      notify(
        'info',
        `#${s.id} of ${saved.student}: ${score(saved.score)} / ${score(saved.maxScore)}`,
      );
      setProblem(null);
      await load();
      onChanged?.();
    } catch (e) {
      setProblem((await refusal(e)).message);
    }
  };

  const regrade = async (s: GradedSubmission) => {
    try {
      await client.regradeSubmission(course, assignment.name, s.id);
      notify('info', `#${s.id} queued to be graded again; manual points stay`);
      await load();
    } catch (e) {
      setProblem((await refusal(e)).message);
    }
  };

  const addComment = () => {
    const line = Number(draft.line);
    if (!draft.text.trim() || !Number.isInteger(line) || line < 1) {
      setProblem('A comment needs a line number from 1 and some text');
      return;
    }
    setComments((prev) => [...prev, { path: draft.path, line, text: draft.text.trim() }]);
    setDraft((prev) => ({ ...prev, text: '' }));
  };

  return (
    <div className="grading-view" data-testid="grading-view">
      {problem && (
        <div className="banner banner-error" data-testid="grading-error">
          {problem}
        </div>
      )}
      {subs?.length === 0 && <div className="muted">No submissions yet.</div>}
      {!!subs?.length && (
        <button data-testid="grading-regrade-all" onClick={() => void regradeAll()}>
          Regrade all
        </button>
      )}
      <ul className="assignment-list">
        {(subs ?? []).map((s) => (
          <li key={s.id} data-testid={`grading-${s.id}`}>
            <button className="assignment-title" onClick={() => choose(s)}>
              {s.student} · #{s.id} · {formatWhen(s.createdAt)} · {s.status} · {score(s.score)} /{' '}
              {score(s.maxScore)}
            </button>
          </li>
        ))}
      </ul>
      {current && (
        <div className="grading-detail" data-testid="grading-detail">
          <table>
            <tbody>
              {current.results.map((r, i) => (
                <tr key={`${r.name}-${i}`}>
                  <td>{r.name}</td>
                  <td className="muted">{r.visibility}</td>
                  <td>{r.status}</td>
                  <td>
                    {score(r.score)} / {score(r.maxScore)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="panel-title">Manual points (override)</div>
          {gradable(assignment, current).map((item) => (
            <label key={item.name} className="grading-points">
              {item.name} (0–{score(item.max)}){' '}
              <input
                data-testid={`grading-points-${item.name}`}
                value={points[item.name] ?? ''}
                onChange={(e) => setPoints((prev) => ({ ...prev, [item.name]: e.target.value }))}
              />
            </label>
          ))}
          {code && code.id === current.id && (
            <div className="grading-code" data-testid="grading-code">
              <div className="muted">{code.path} · pick a line to comment on it</div>
              <pre>
                {code.lines.map((text, i) => (
                  <div key={i} className="grading-line">
                    <button
                      className="grading-line-number"
                      aria-label={`Comment on line ${i + 1}`}
                      onClick={() =>
                        setDraft((prev) => ({ ...prev, path: code.path, line: String(i + 1) }))
                      }
                    >
                      {i + 1}
                    </button>{' '}
                    {text}
                    {comments
                      .filter((c) => c.path === code.path && c.line === i + 1)
                      .map((c, j) => (
                        <div
                          key={j}
                          className="submission-comment"
                          data-testid="grading-line-comment"
                        >
                          {c.text}
                        </div>
                      ))}
                  </div>
                ))}
              </pre>
            </div>
          )}
          <div className="panel-title">Comments</div>
          {comments.map((c, i) => (
            <div key={i} className="submission-comment">
              <span className="muted">
                {c.path}:{c.line}
              </span>{' '}
              {c.text}{' '}
              <button
                aria-label="Remove the comment"
                onClick={() => setComments((prev) => prev.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </div>
          ))}
          <div className="assignment-actions">
            <select
              aria-label="File"
              data-testid="grading-file"
              value={draft.path}
              onChange={(e) => {
                setDraft((prev) => ({ ...prev, path: e.target.value }));
                void showFile(current.id, e.target.value);
              }}
            >
              {current.files.map((f) => (
                <option key={f}>{f}</option>
              ))}
            </select>
            <input
              aria-label="Line"
              size={4}
              value={draft.line}
              onChange={(e) => setDraft((prev) => ({ ...prev, line: e.target.value }))}
            />
            <input
              aria-label="Comment"
              data-testid="grading-comment"
              value={draft.text}
              onChange={(e) => setDraft((prev) => ({ ...prev, text: e.target.value }))}
            />
            <button onClick={addComment}>Add</button>
          </div>
          <div className="assignment-actions">
            <button data-testid="grading-save" onClick={() => void save(current)}>
              Save grade
            </button>
            <button data-testid="grading-regrade" onClick={() => void regrade(current)}>
              Regrade
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
