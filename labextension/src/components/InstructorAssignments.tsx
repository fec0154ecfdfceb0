/** An instructor's assignments in a course: release, feedback, and the gradebook with CSV. */
import { useCallback, useEffect, useState } from 'react';
import { refusal, type IdeClient } from '../api/client';
import type { Assignment, Gradebook } from '../lib/assignments';
import { downloadBytes } from '../lib/download';
import { formatWhen } from '../lib/time';
import { EditAssignment } from './EditAssignment';
import { GradingView } from './GradingView';
import { NewAssignment } from './NewAssignment';
import { SimilarityPanel } from './SimilarityPanel';
import type { Notify } from './Toasts';

interface Props {
  client: IdeClient;
  course: string;
  visible: boolean;
  notify: Notify;
}

function score(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : String(Math.round(n * 100) / 100);
}

export function InstructorAssignments({ client, course, visible, notify }: Props) {
  const [assignments, setAssignments] = useState<Assignment[] | null>(null);
  const [book, setBook] = useState<Gradebook | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [grading, setGrading] = useState<string | null>(null);
  const [similar, setSimilar] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [found, grades] = await Promise.all([
        client.assignments(course),
        client.gradebook(course),
      ]);
      setAssignments(found);
      setBook(grades);
      setProblem(null);
    } catch (e) {
      setProblem((await refusal(e)).message);
    }
  }, [client, course]);

  useEffect(() => {
    if (visible) {
      void load();
    }
  }, [visible, load]);

  const act = async (run: () => Promise<void>) => {
    setBusy(true);
    try {
      await run();
      await load();
    } catch (e) {
      setProblem((await refusal(e)).message);
    } finally {
      setBusy(false);
    }
  };

  const release = (a: Assignment) =>
    act(async () => {
      const report = await client.releaseAssignment(course, a.name);
      const failed = report.failed.map((f) => `${f.student} (${f.error})`);
      notify(
        failed.length ? 'error' : 'info',
        `${a.name} version ${report.version} given to ${report.given.length} student(s)` +
          (failed.length ? `; not to ${failed.join(', ')}` : ''),
      );
    });

  const feedback = (a: Assignment) =>
    act(async () => {
      await client.publishFeedback(course, a.name, !a.feedbackPublished);
      notify('info', `${a.name}: feedback ${a.feedbackPublished ? 'withdrawn' : 'released'}`);
    });

  const csv = () =>
    act(async () => {
      const text = await client.gradebookCsv(course);
      downloadBytes(new TextEncoder().encode(text), `${course}-grades.csv`, 'text/csv');
    });

  return (
    <div className="assignments-panel" data-testid="instructor-assignments">
      <div className="panel-header">
        <span className="panel-title">Assignments · {course} (instructor)</span>
        <span className="toolbar-spacer" />
        <button data-testid="assignments-reload" onClick={() => void load()}>
          ⟳
        </button>
      </div>
      {problem && (
        <div className="banner banner-error" data-testid="assignments-error">
          {problem}
        </div>
      )}
      <NewAssignment
        client={client}
        course={course}
        onCreated={(a) => {
          notify('info', `${a.name} created from ${a.files.length} file(s); not released yet`);
          void load();
        }}
      />
      {assignments === null && !problem && <div className="loading">Loading…</div>}
      {assignments?.length === 0 && (
        <div className="panel-note muted">No assignments yet: make one from a folder above.</div>
      )}
      <ul className="assignment-list">
        {(assignments ?? []).map((a) => (
          <li key={a.name} className="assignment" data-testid={`assignment-${a.name}`}>
            <div className="assignment-head">
              <strong className="assignment-test-name">{a.title || a.name}</strong>
              <span className="assignment-state" data-testid="assignment-released">
                {a.releasedAt ? `Released ${formatWhen(a.releasedAt)}` : 'Not released'}
              </span>
            </div>
            <div className="muted">
              {a.dueAt ? `Due ${formatWhen(a.dueAt)}` : 'No deadline'} · version {a.version}
            </div>
            <div className="assignment-actions">
              <button
                data-testid="assignment-release"
                disabled={busy}
                onClick={() => void release(a)}
              >
                {a.releasedAt ? 'Release again' : 'Release'}
              </button>
              <button
                data-testid="assignment-feedback"
                disabled={busy}
                onClick={() => void feedback(a)}
              >
                {a.feedbackPublished ? 'Withdraw feedback' : 'Release feedback'}
              </button>
              <button
                data-testid="assignment-edit"
                aria-expanded={editing === a.name}
                onClick={() => setEditing(editing === a.name ? null : a.name)}
              >
                {editing === a.name ? 'Close editing' : 'Edit'}
              </button>
              <button
                data-testid="assignment-grade"
                aria-expanded={grading === a.name}
                onClick={() => setGrading(grading === a.name ? null : a.name)}
              >
                {grading === a.name ? 'Close grading' : 'Grade'}
              </button>
              <button
                data-testid="assignment-similarity"
                aria-expanded={similar === a.name}
                onClick={() => setSimilar(similar === a.name ? null : a.name)}
              >
                {similar === a.name ? 'Close similarity' : 'Similarity'}
              </button>
            </div>
            {editing === a.name && (
              <EditAssignment
                client={client}
                course={course}
                name={a.name}
                students={book?.students.map((row) => row.student) ?? []}
                notify={notify}
                onChanged={() => void load()}
              />
            )}
            {grading === a.name && (
              <GradingView
                client={client}
                course={course}
                assignment={a}
                notify={notify}
                onChanged={() => void load()}
              />
            )}
            {similar === a.name && (
              <SimilarityPanel client={client} course={course} assignment={a.name} />
            )}
          </li>
        ))}
      </ul>
      {book && (
        <section className="gradebook" data-testid="gradebook">
          <div className="panel-header">
            <span className="panel-title">Gradebook</span>
            <span className="toolbar-spacer" />
            <button data-testid="gradebook-csv" disabled={busy} onClick={() => void csv()}>
              CSV
            </button>
          </div>
          <table>
            <thead>
              <tr>
                <th>Student</th>
                {book.assignments.map((name) => (
                  <th key={name}>
                    {name} <span className="muted">/ {score(book.maxScores[name])}</span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {book.students.map((row) => (
                <tr key={row.student} data-testid={`gradebook-${row.student}`}>
                  <td>{row.student}</td>
                  {book.assignments.map((name) => (
                    <td key={name}>{score(row.scores[name])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
