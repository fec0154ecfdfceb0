/** The instructor's form to make an assignment from a folder of their workspace. */
import { useState } from 'react';
import { refusal, type IdeClient } from '../api/client';
import {
  ASSIGNMENT_LANGUAGES,
  newAssignmentBody,
  type Assignment,
  type NewAssignmentForm,
} from '../lib/assignments';

interface Props {
  client: IdeClient;
  course: string;
  onCreated: (assignment: Assignment) => void;
}

const EMPTY: NewAssignmentForm = {
  name: '',
  folder: '',
  language: 'python',
  due: '',
  latePenaltyPercent: '',
  tests: '',
};

export function NewAssignment({ client, course, onCreated }: Props) {
  const [form, setForm] = useState<NewAssignmentForm>(EMPTY);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const set = (field: keyof NewAssignmentForm) => (value: string) =>
    setForm((prev) => ({ ...prev, [field]: value }));

  const create = async () => {
    const made = newAssignmentBody(form);
    if ('error' in made) {
      setProblem(made.error);
      return;
    }
    setBusy(true);
    try {
      onCreated(await client.createAssignment(course, made.body));
      setForm(EMPTY);
      setProblem(null);
    } catch (e) {
      setProblem((await refusal(e)).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <details className="assignment new-assignment" data-testid="new-assignment">
      <summary>New assignment from a folder</summary>
      <label>
        Name <input value={form.name} onChange={(e) => set('name')(e.target.value)} />
      </label>
      <label>
        Folder <input value={form.folder} onChange={(e) => set('folder')(e.target.value)} />
      </label>
      <label>
        Language{' '}
        <select value={form.language} onChange={(e) => set('language')(e.target.value)}>
          {ASSIGNMENT_LANGUAGES.map((l) => (
            <option key={l}>{l}</option>
          ))}
        </select>
      </label>
      <label>
        Due{' '}
        <input
          type="datetime-local"
          value={form.due}
          onChange={(e) => set('due')(e.target.value)}
        />
      </label>
      <label>
        Late penalty (% a day){' '}
        <input
          value={form.latePenaltyPercent}
          onChange={(e) => set('latePenaltyPercent')(e.target.value)}
        />
      </label>
      <label>
        Tests (JSON list; a notebook’s test cells are found without it)
        <textarea rows={3} value={form.tests} onChange={(e) => set('tests')(e.target.value)} />
      </label>
      {problem && (
        <div className="banner banner-error" data-testid="new-assignment-error">
          {problem}
        </div>
      )}
      <button data-testid="new-assignment-create" disabled={busy} onClick={() => void create()}>
        Create
      </button>
    </details>
  );
}
