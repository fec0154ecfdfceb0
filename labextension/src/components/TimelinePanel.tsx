/** The Activity side panel: instructors see the lab dashboard and any student's timeline;
 * a student sees their own timeline. */
import { useState } from 'react';
import type { IdeClient } from '../api/client';
import { Dashboard } from './Dashboard';
import { Timeline } from './Timeline';

interface Props {
  client: IdeClient;
  course: string | null;
  role: string | null;
  visible: boolean;
}

export default function TimelinePanel({ client, course, role, visible }: Props) {
  const [student, setStudent] = useState<string | null>(null);
  if (!course) {
    return (
      <div className="assignments-panel" data-testid="activity-panel">
        <p className="muted">Choose a course in the status bar to see its activity.</p>
      </div>
    );
  }
  if (role !== 'instructor') {
    return (
      <div className="assignments-panel" data-testid="activity-panel">
        <Timeline client={client} course={course} student="" visible={visible} />
      </div>
    );
  }
  return (
    <div className="assignments-panel" data-testid="activity-panel">
      <Dashboard client={client} course={course} visible={visible} onStudent={setStudent} />
      {student && (
        <Timeline
          key={student}
          client={client}
          course={course}
          student={student}
          visible={visible}
        />
      )}
    </div>
  );
}
