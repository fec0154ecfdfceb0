/** The course the IDE works in, for students of several courses: AI rules and runs follow it. */
import type { Course } from '../api/client';
import { courseLabel, needsPicker } from '../lib/courses';

interface Props {
  courses: Course[];
  course: string | null;
  onChoose: (course: string | null) => void;
}

export function CoursePicker({ courses, course, onChoose }: Props) {
  if (!needsPicker(courses)) {
    return null; // none or one course: the server picks the only one
  }
  return (
    <label
      className="status-item status-course"
      title="The course you work in: its AI rules apply, and your runs and AI use count in it"
    >
      Course:{' '}
      <select
        data-testid="course-picker"
        aria-label="Course"
        value={course ?? ''}
        onChange={(e) => onChoose(e.target.value || null)}
      >
        <option value="">None (strictest rules of all)</option>
        {courses.map((c) => (
          <option key={c.name} value={c.name}>
            {courseLabel(c)}
          </option>
        ))}
      </select>
    </label>
  );
}
