/** Which course the IDE works in: the user's courses, the picker's choice and where it is kept. */
import type { Course } from '../api/client';

/** The courses the user is in (admins see every course, but are members of only some). */
export function memberCourses(courses: Course[]): Course[] {
  return courses.filter((c) => c.myRole !== null);
}

/** Whether to offer a picker: only with several courses (with one, the server picks it). */
export function needsPicker(courses: Course[]): boolean {
  return courses.length > 1;
}

/** The course to work in: the kept choice while the user is still in it, else none. */
export function chooseCourse(courses: Course[], kept: string | null): string | null {
  if (!needsPicker(courses) || kept === null) {
    return null;
  }
  return courses.some((c) => c.name === kept) ? kept : null;
}

/** The storage key of the choice: one per server, user and workspace. */
export function courseKey(server: string, user: string, workspace: string): string {
  return ['jupyter-ide.course', server, user, workspace].map(encodeURIComponent).join(':');
}

/** Read a kept choice; storage that cannot be read keeps nothing. */
export function loadChoice(storage: Storage | null, key: string): string | null {
  try {
    return storage?.getItem(key) || null;
  } catch {
    return null;
  }
}

/** Keep a choice (null forgets it); storage that refuses it keeps it for this page only. */
export function saveChoice(storage: Storage | null, key: string, course: string | null): void {
  try {
    if (course === null) {
      storage?.removeItem(key);
    } else {
      storage?.setItem(key, course);
    }
  } catch {
    // Private windows may refuse storage.
  }
}

/** A course as the picker lists it: its name, and its title when it has one. */
export function courseLabel(course: Course): string {
  return course.title && course.title !== course.name
    ? `${course.name} · ${course.title}`
    : course.name;
}
