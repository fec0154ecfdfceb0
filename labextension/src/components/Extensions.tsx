/** An assignment's per-student extensions: the list, a grant, a removal. */
import { useState } from 'react';
import { refusal, type IdeClient } from '../api/client';
import { formatWhen } from '../lib/time';
import type { Notify } from './Toasts';

interface Props {
  client: IdeClient;
  course: string;
  assignment: string;
  /** Student name -> their own deadline (ISO). */
  extensions: Record<string, string>;
  /** The course's students, offered as the name is typed. */
  students: string[];
  notify: Notify;
  /** An extension was granted or removed: read the assignment again. */
  onChanged: () => void;
}

export function Extensions({
  client,
  course,
  assignment,
  extensions,
  students,
  notify,
  onChanged,
}: Props) {
  const [student, setStudent] = useState('');
  const [due, setDue] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const act = async (run: () => Promise<void>) => {
    setBusy(true);
    try {
      await run();
      setProblem(null);
      onChanged();
    } catch (e) {
      setProblem((await refusal(e)).message);
    } finally {
      setBusy(false);
    }
  };

  const grant = () => {
    const when = new Date(due);
    if (!student.trim() || !due || Number.isNaN(when.getTime())) {
      setProblem('Name the student and their new deadline.');
      return;
    }
    void act(async () => {
      const given = await client.setExtension(
        course,
        assignment,
        student.trim(),
        when.toISOString(),
      );
      notify('info', `${given.student}: due ${formatWhen(given.dueAt ?? '')}; grades recomputed`);
      setStudent('');
      setDue('');
    });
  };

  const remove = (name: string) =>
    void act(async () => {
      await client.dropExtension(course, assignment, name);
      notify('info', `${name}: the assignment’s deadline holds again`);
    });

  const rows = Object.entries(extensions).sort(([a], [b]) => a.localeCompare(b));
  return (
    <fieldset className="extensions" data-testid="extensions">
      <legend>Extensions</legend>
      {rows.length === 0 && <div className="muted">No student has an extension.</div>}
      {rows.map(([name, when]) => (
        <div key={name} className="assignment-actions" data-testid={`extension-${name}`}>
          <span className="assignment-test-name">
            {name}: due {formatWhen(when)}
          </span>
          <button data-testid="extension-remove" disabled={busy} onClick={() => remove(name)}>
            Remove
          </button>
        </div>
      ))}
      <div className="assignment-actions">
        <input
          aria-label="Student"
          placeholder="student"
          data-testid="extension-student"
          list={`extension-students-${assignment}`}
          value={student}
          onChange={(e) => setStudent(e.target.value)}
        />
        <input
          aria-label="New deadline"
          type="datetime-local"
          data-testid="extension-due"
          value={due}
          onChange={(e) => setDue(e.target.value)}
        />
        <datalist id={`extension-students-${assignment}`}>
          {students.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <button data-testid="extension-grant" disabled={busy} onClick={grant}>
          Grant
        </button>
      </div>
      {problem && (
        <div className="banner banner-error" data-testid="extension-error">
          {problem}
        </div>
      )}
    </fieldset>
  );
}
