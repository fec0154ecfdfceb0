/** A student's assignments in the chosen course: due dates, their copy, submissions, results. */
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { refusal, type IdeClient, type Refusal } from '../api/client';
import {
  assignmentState,
  isPending,
  STATE_LABELS,
  type Assignment,
  type AssignmentSubmission,
  type MergeChoice,
  type MergeResult,
  type MergeVersions,
} from '../lib/assignments';
import { formatWhen } from '../lib/time';
import { InstructorAssignments } from './InstructorAssignments';
import { SubmissionResults } from './SubmissionResults';
import type { Notify } from './Toasts';

const MergeView = lazy(() => import('./MergeView'));

const POLL_MS = 1500;

const SETTLED: Record<MergeChoice, string> = {
  theirs: 'your version kept',
  new: 'the new version taken',
  merged: 'your merge saved',
};

interface Props {
  client: IdeClient;
  /** The course to list, or null when none is chosen. */
  course: string | null;
  /** How many courses the user is in (to say why nothing is listed). */
  courseCount: number;
  /** The user's role in the course: instructors get the release and gradebook views. */
  role?: string | null;
  visible: boolean;
  /** Files were written into the workspace (a copy fetched, a submission reopened). */
  onFilesChanged: (paths: string[]) => void;
  notify: Notify;
}

/** A refusal as a sentence for the student, with what to do next. */
export function explainRefusal(r: Refusal, now: Date = new Date()): string {
  if (r.status === 429 && r.retryAfter !== null) {
    const at = new Date(now.getTime() + r.retryAfter * 1000).toISOString();
    return `${r.message} (you can submit again in ${r.retryAfter} s, at ${formatWhen(at, now)})`;
  }
  if (r.status === 409) {
    return `${r.message}. Press “Get copy” first.`;
  }
  return r.message;
}

function dueText(a: Assignment): string {
  if (!a.dueAt) {
    return 'No deadline';
  }
  return `Due ${formatWhen(a.dueAt)}${a.extended ? ' (your extension)' : ''}`;
}

export default function AssignmentsPanel(props: Props) {
  if (props.course && props.role === 'instructor') {
    return (
      <InstructorAssignments
        client={props.client}
        course={props.course}
        visible={props.visible}
        notify={props.notify}
      />
    );
  }
  return <StudentAssignments {...props} />;
}

function StudentAssignments({
  client,
  course,
  courseCount,
  visible,
  onFilesChanged,
  notify,
}: Props) {
  const [assignments, setAssignments] = useState<Assignment[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [submissions, setSubmissions] = useState<Record<string, AssignmentSubmission[]>>({});
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [merging, setMerging] = useState<{ a: Assignment; versions: MergeVersions } | null>(null);
  const [viewing, setViewing] = useState<{ id: number; path: string; text: string } | null>(null);
  const generation = useRef(0);

  const load = useCallback(async () => {
    if (!course) {
      return;
    }
    const ticket = ++generation.current;
    try {
      const found = await client.assignments(course);
      if (ticket === generation.current) {
        setAssignments(found);
        setLoadError(null);
      }
    } catch (e) {
      if (ticket === generation.current) {
        setLoadError((await refusal(e)).message);
      }
    }
  }, [client, course]);

  const loadSubmissions = useCallback(
    async (name: string) => {
      if (!course) {
        return;
      }
      try {
        const found = await client.assignmentSubmissions(course, name);
        setSubmissions((prev) => ({ ...prev, [name]: found }));
      } catch (e) {
        const r = await refusal(e);
        setProblems((prev) => ({ ...prev, [name]: explainRefusal(r) }));
      }
    },
    [client, course],
  );

  useEffect(() => {
    setAssignments(null);
    setSubmissions({});
    setProblems({});
    setOpen(null);
  }, [course]);

  useEffect(() => {
    if (visible) {
      void load();
    }
  }, [visible, load]);

  useEffect(() => {
    if (visible && open) {
      void loadSubmissions(open);
    }
  }, [visible, open, loadSubmissions]);

  const pending = open !== null && (submissions[open] ?? []).some(isPending);
  useEffect(() => {
    if (!visible || !pending || !open) {
      return;
    }
    const timer = window.setInterval(() => void loadSubmissions(open), POLL_MS);
    return () => window.clearInterval(timer);
  }, [visible, pending, open, loadSubmissions]);

  /** Run one action on an assignment; a refusal is shown beside it. */
  const act = async (name: string, action: string, run: () => Promise<void>) => {
    setBusy(`${name}:${action}`);
    setProblems((prev) => Object.fromEntries(Object.entries(prev).filter(([k]) => k !== name)));
    try {
      await run();
    } catch (e) {
      const message = explainRefusal(await refusal(e));
      setProblems((prev) => ({ ...prev, [name]: message }));
    } finally {
      setBusy(null);
    }
  };

  const getCopy = (a: Assignment) =>
    act(a.name, 'fetch', async () => {
      const got = await client.fetchAssignment(a.course || (course ?? ''), a.name);
      onFilesChanged(got.written.map((p) => `${got.folder}/${p}`));
      const kept = Object.keys(got.kept);
      notify(
        'info',
        `${a.name} is in ${got.folder}` +
          (kept.length ? `; your changed ${kept.join(', ')} kept as they are` : ''),
      );
      await load();
    });

  const submit = (a: Assignment) =>
    act(a.name, 'submit', async () => {
      const made = await client.submitAssignment(a.course || (course ?? ''), a.name);
      setSubmissions((prev) => ({ ...prev, [a.name]: [made, ...(prev[a.name] ?? [])] }));
      setOpen(a.name);
      notify('info', `${a.name} submitted (#${made.id})`);
    });

  const openMerge = (a: Assignment, path: string) =>
    act(a.name, 'merge', async () => {
      const versions = await client.mergeVersions(a.course || (course ?? ''), a.name, path);
      setMerging({ a, versions });
    });

  const settled = (result: MergeResult, choice: MergeChoice) => {
    setMerging(null);
    if (result.written) {
      onFilesChanged([`${result.folder}/${result.path}`]);
    }
    notify('info', `${result.path}: ${SETTLED[choice]}`);
    void load();
  };

  /** Show one submitted file as it was sent (again: hide it). */
  const showFile = (a: Assignment, s: AssignmentSubmission, path: string) => {
    if (viewing?.id === s.id && viewing.path === path) {
      setViewing(null);
      return;
    }
    return act(a.name, 'file', async () => {
      const text = await client.submissionFile(a.course || (course ?? ''), a.name, s.id, path);
      setViewing({ id: s.id, path, text });
    });
  };

  const reopen = (a: Assignment, s: AssignmentSubmission) => {
    const question =
      `Put the files of submission #${s.id} back into ${a.folder}? ` +
      'What they replace stays in each file’s history.';
    if (!window.confirm(question)) {
      return;
    }
    void act(a.name, 'reopen', async () => {
      const back = await client.reopenSubmission(a.course || (course ?? ''), a.name, s.id);
      onFilesChanged(back.restored.map((p) => `${back.folder}/${p}`));
      notify('info', `Submission #${s.id} is back in ${back.folder}`);
    });
  };

  if (!course) {
    return (
      <div className="assignments-panel">
        <div className="panel-note muted" data-testid="assignments-no-course">
          {courseCount > 1
            ? 'Choose a course in the status bar to see its assignments.'
            : 'You are not in a course, so there are no assignments.'}
        </div>
      </div>
    );
  }

  const now = new Date();
  return (
    <div className="assignments-panel" data-testid="assignments-panel">
      <div className="panel-header">
        <span className="panel-title">Assignments · {course}</span>
        <span className="toolbar-spacer" />
        <button data-testid="assignments-reload" onClick={() => void load()}>
          ⟳
        </button>
      </div>
      {loadError && (
        <div className="banner banner-error" data-testid="assignments-error">
          {loadError}
        </div>
      )}
      {assignments === null && !loadError && <div className="loading">Loading…</div>}
      {assignments?.length === 0 && (
        <div className="panel-note muted">No assignments have been released in {course}.</div>
      )}
      <ul className="assignment-list">
        {(assignments ?? []).map((a) => {
          const state = assignmentState(a, now);
          const mine = submissions[a.name] ?? [];
          const expanded = open === a.name;
          return (
            <li key={a.name} className="assignment" data-testid={`assignment-${a.name}`}>
              <div className="assignment-head">
                <button
                  className="assignment-title"
                  aria-expanded={expanded}
                  data-testid="assignment-toggle"
                  onClick={() => setOpen(expanded ? null : a.name)}
                >
                  {expanded ? '▾' : '▸'} {a.title || a.name}
                </button>
                <span
                  className={`assignment-state assignment-state-${state}`}
                  data-testid="assignment-state"
                >
                  {STATE_LABELS[state]}
                </span>
              </div>
              <div className="muted" data-testid="assignment-due">
                {dueText(a)}
                {a.latePenaltyPercent ? ` · −${a.latePenaltyPercent}% a day late` : ''}
                {a.maxSubmissions
                  ? ` · ${a.maxSubmissions} submissions per ${a.windowSeconds ?? 0} s`
                  : ''}
              </div>
              {a.notice && (
                <div className="banner banner-warn" data-testid="assignment-notice">
                  A new version of files you changed was released; yours were kept. Compare and
                  merge each:
                  {a.notice.kept.map((path) => (
                    <button
                      key={path}
                      className="notice-merge"
                      data-testid={`assignment-merge-${path}`}
                      disabled={busy !== null}
                      onClick={() => void openMerge(a, path)}
                    >
                      {path}
                    </button>
                  ))}
                </div>
              )}
              <div className="assignment-actions">
                {(state === 'not-fetched' || state === 'update') && (
                  <button
                    data-testid="assignment-get"
                    disabled={busy !== null}
                    onClick={() => void getCopy(a)}
                  >
                    {state === 'update' ? 'Get the new version' : 'Get copy'}
                  </button>
                )}
                <button
                  data-testid="assignment-submit"
                  disabled={busy !== null || state === 'closed'}
                  onClick={() => void submit(a)}
                >
                  {busy === `${a.name}:submit` ? 'Submitting…' : 'Submit'}
                </button>
                {a.fetchedVersion !== null && <span className="muted">{a.folder}</span>}
              </div>
              {problems[a.name] && (
                <div className="banner banner-error" data-testid="assignment-error">
                  {problems[a.name]}
                </div>
              )}
              {expanded && (
                <div className="assignment-submissions" data-testid="assignment-submissions">
                  {mine.length === 0 && <div className="muted">No submissions yet.</div>}
                  {mine.map((s, i) => (
                    <details
                      key={s.id}
                      open={i === 0}
                      className="assignment-submission"
                      data-testid={`submission-${s.id}`}
                    >
                      <summary>
                        #{s.id} · {formatWhen(s.createdAt)} · {s.status}
                        {!isPending(s) && !s.error
                          ? ` · ${s.visibleScore} / ${s.visibleMaxScore}`
                          : ''}
                      </summary>
                      <SubmissionResults submission={s} />
                      <div className="assignment-actions">
                        <button
                          data-testid="submission-reopen"
                          disabled={busy !== null}
                          onClick={() => reopen(a, s)}
                        >
                          Reopen in my copy
                        </button>
                        {s.files.map((path) => (
                          <button
                            key={path}
                            className="muted"
                            data-testid={`submission-file-${path}`}
                            onClick={() => void showFile(a, s, path)}
                          >
                            {path}
                          </button>
                        ))}
                      </div>
                      {viewing?.id === s.id && (
                        <pre className="test-detail" data-testid="submission-file">
                          {viewing.text}
                        </pre>
                      )}
                    </details>
                  ))}
                </div>
              )}
            </li>
          );
        })}
      </ul>
      {merging && (
        <Suspense fallback={null}>
          <MergeView
            client={client}
            course={merging.a.course || course}
            assignment={merging.a.name}
            versions={merging.versions}
            onSettled={settled}
            onClose={() => setMerging(null)}
          />
        </Suspense>
      )}
    </div>
  );
}
