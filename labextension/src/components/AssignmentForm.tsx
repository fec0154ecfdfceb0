/** The instructor's assignment form: make one from a folder, or change one (same fields). */
import { useState } from 'react';
import { refusal } from '../api/client';
import { assignmentBody, type AssignmentDraft, type RubricDraft } from '../lib/assignmentForm';
import { ASSIGNMENT_LANGUAGES } from '../lib/assignments';
import { TestCasesEditor } from './TestCasesEditor';

interface Props {
  /** The form as it opens: empty to create, the assignment's own to edit. */
  initial: AssignmentDraft;
  /** Edit: name and folder are fixed, unchanged tests do not re-read the folder. */
  editing: boolean;
  submitLabel: string;
  /** Send the body; a refusal (thrown) is shown in the form. */
  onSubmit: (body: Record<string, unknown>) => Promise<void>;
  /** A prefix for the form's test ids (new-assignment, edit-assignment). */
  testId: string;
}

export function AssignmentForm({ initial, editing, submitLabel, onSubmit, testId }: Props) {
  const [draft, setDraft] = useState<AssignmentDraft>(initial);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const set =
    (field: keyof AssignmentDraft) =>
    (e: { target: { value: string } }): void =>
      setDraft((prev) => ({ ...prev, [field]: e.target.value }));

  const setRubric = (rubric: RubricDraft[]) => setDraft((prev) => ({ ...prev, rubric }));

  const submit = async () => {
    const made = assignmentBody(draft, editing ? initial : undefined);
    if ('error' in made) {
      setProblem(made.error);
      return;
    }
    setBusy(true);
    try {
      await onSubmit(made.body);
      setProblem(null);
      if (!editing) {
        setDraft(initial);
      }
    } catch (e) {
      setProblem((await refusal(e)).message);
    } finally {
      setBusy(false);
    }
  };

  const field = (label: string, key: keyof AssignmentDraft, hint = '', type = 'text') => (
    <label>
      {label}
      {hint && <span className="muted"> {hint}</span>}
      <input
        type={type}
        data-testid={`${testId}-${key}`}
        value={String(draft[key])}
        onChange={set(key)}
      />
    </label>
  );

  return (
    <div className="assignment-form new-assignment">
      {!editing && field('Name', 'name', '(lowercase, digits, . _ -)')}
      {field('Title', 'title')}
      {!editing && field('Folder of your workspace', 'folder')}
      <label>
        Language
        <select
          data-testid={`${testId}-language`}
          value={draft.language}
          onChange={set('language')}
        >
          {ASSIGNMENT_LANGUAGES.map((l) => (
            <option key={l}>{l}</option>
          ))}
        </select>
      </label>
      {field('Due', 'due', '', 'datetime-local')}
      {field('Late penalty (% a day)', 'latePenaltyPercent')}
      {field('Cut-off (hours after the deadline)', 'cutoffHours', 'empty: none')}
      <div className="assignment-actions">
        {field('Submissions', 'maxSubmissions', 'empty: no limit')}
        {field('per (minutes)', 'windowMinutes')}
      </div>
      <TestCasesEditor
        tests={draft.tests}
        onChange={(tests) => setDraft((prev) => ({ ...prev, tests }))}
      />
      <fieldset data-testid={`${testId}-rubric`}>
        <legend>Rubric (points given by hand)</legend>
        {draft.rubric.map((r, i) => (
          <div key={i} className="assignment-actions">
            <input
              aria-label="Rubric item"
              data-testid="rubric-name"
              value={r.name}
              onChange={(e) =>
                setRubric(
                  draft.rubric.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)),
                )
              }
            />
            <input
              aria-label="Points"
              data-testid="rubric-points"
              size={5}
              value={r.points}
              onChange={(e) =>
                setRubric(
                  draft.rubric.map((x, j) => (j === i ? { ...x, points: e.target.value } : x)),
                )
              }
            />
            <button
              aria-label={`Remove ${r.name || 'the item'}`}
              onClick={() => setRubric(draft.rubric.filter((_, j) => j !== i))}
            >
              ×
            </button>
          </div>
        ))}
        <button
          data-testid="rubric-add"
          onClick={() => setRubric([...draft.rubric, { name: '', points: '1' }])}
        >
          + Rubric item
        </button>
      </fieldset>
      {editing && (
        <label className="assignment-actions">
          <input
            type="checkbox"
            data-testid={`${testId}-refresh`}
            checked={draft.refresh}
            onChange={(e) => setDraft((prev) => ({ ...prev, refresh: e.target.checked }))}
          />
          Read the folder again (a new version when its starter files changed)
        </label>
      )}
      {problem && (
        <div className="banner banner-error" data-testid={`${testId}-error`}>
          {problem}
        </div>
      )}
      <button
        className="primary"
        data-testid={`${testId}-submit`}
        disabled={busy}
        onClick={() => void submit()}
      >
        {busy ? 'Saving…' : submitLabel}
      </button>
    </div>
  );
}
