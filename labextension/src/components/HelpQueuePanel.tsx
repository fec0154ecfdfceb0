/** The Help side panel: raise a hand (students) or answer the queue (instructors), and the
 * course's AI conversations (one's own, or every student's for instructors). */
import type { IdeClient } from '../api/client';
import type { EditorHandle } from '../lib/editorHandle';
import { HelpQueueInstructor } from './HelpQueueInstructor';
import { RaiseHand } from './RaiseHand';
import type { Notify } from './Toasts';
import { TranscriptsView } from './TranscriptsView';

interface Props {
  client: IdeClient;
  /** The course, or null when none is chosen. */
  course: string | null;
  /** How many courses the user is in (to say why nothing is shown). */
  courseCount: number;
  /** The user's role in the course. */
  role: string | null;
  getEditor: () => EditorHandle | null;
  visible: boolean;
  notify: Notify;
}

export default function HelpQueuePanel({
  client,
  course,
  courseCount,
  role,
  getEditor,
  visible,
  notify,
}: Props) {
  if (!course) {
    return (
      <div className="assignments-panel" data-testid="help-panel">
        <p className="muted">
          {courseCount > 1
            ? 'Choose a course in the status bar to raise your hand in it.'
            : 'You are in no course: there is no one to ask here.'}
        </p>
      </div>
    );
  }
  const instructor = role === 'instructor';
  return (
    <div className="assignments-panel" data-testid="help-panel">
      {instructor ? (
        <HelpQueueInstructor client={client} course={course} visible={visible} notify={notify} />
      ) : (
        <RaiseHand
          client={client}
          course={course}
          getEditor={getEditor}
          visible={visible}
          notify={notify}
        />
      )}
      <TranscriptsView client={client} course={course} instructor={instructor} visible={visible} />
    </div>
  );
}
