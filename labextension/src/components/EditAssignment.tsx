/** The instructor's editing of one assignment: its settings and tests, and the extensions. */
import { useCallback, useEffect, useState } from 'react';
import { refusal, type IdeClient } from '../api/client';
import { draftOf } from '../lib/assignmentForm';
import type { Assignment } from '../lib/assignments';
import { AssignmentForm } from './AssignmentForm';
import { Extensions } from './Extensions';
import type { Notify } from './Toasts';

interface Props {
  client: IdeClient;
  course: string;
  name: string;
  /** The course's students (offered when granting an extension). */
  students: string[];
  notify: Notify;
  /** The assignment changed: the list should be read again. */
  onChanged: () => void;
}

export function EditAssignment({ client, course, name, students, notify, onChanged }: Props) {
  const [found, setFound] = useState<Assignment | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  // A new key remounts the form with the saved values.
  const [generation, setGeneration] = useState(0);

  const load = useCallback(async () => {
    try {
      setFound(await client.assignment(course, name));
      setProblem(null);
    } catch (e) {
      setProblem((await refusal(e)).message);
    }
  }, [client, course, name]);

  useEffect(() => {
    void load();
  }, [load]);

  const save = async (body: Record<string, unknown>) => {
    const before = found?.version;
    const saved = await client.updateAssignment(course, name, body);
    setFound(saved);
    setGeneration((g) => g + 1);
    notify(
      'info',
      `${name} saved` +
        (before !== undefined && saved.version > before
          ? `; version ${saved.version}: release it again to give students the new files`
          : ''),
    );
    onChanged();
  };

  return (
    <div className="edit-assignment" data-testid="edit-assignment">
      {problem && (
        <div className="banner banner-error" data-testid="edit-assignment-load-error">
          {problem}
        </div>
      )}
      {!found && !problem && <div className="loading">Loading…</div>}
      {found && (
        <>
          <AssignmentForm
            key={generation}
            initial={draftOf(found)}
            editing
            submitLabel="Save"
            testId="edit-assignment"
            onSubmit={save}
          />
          <Extensions
            client={client}
            course={course}
            assignment={name}
            extensions={found.extensions}
            students={students}
            notify={notify}
            onChanged={() => void load()}
          />
        </>
      )}
    </div>
  );
}
