/** The instructor's form to make an assignment from a folder of their workspace. */
import { type IdeClient } from '../api/client';
import { EMPTY_DRAFT } from '../lib/assignmentForm';
import type { Assignment } from '../lib/assignments';
import { AssignmentForm } from './AssignmentForm';

interface Props {
  client: IdeClient;
  course: string;
  onCreated: (assignment: Assignment) => void;
}

export function NewAssignment({ client, course, onCreated }: Props) {
  return (
    <details className="assignment new-assignment" data-testid="new-assignment">
      <summary data-testid="new-assignment-open">New assignment from a folder</summary>
      <AssignmentForm
        initial={EMPTY_DRAFT}
        editing={false}
        submitLabel="Create"
        testId="new-assignment"
        onSubmit={async (body) => onCreated(await client.createAssignment(course, body))}
      />
    </details>
  );
}
