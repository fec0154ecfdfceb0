/** The course the IDE works in: loaded from the server, chosen in the picker, kept per workspace. */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Course, IdeClient } from '../api/client';
import {
  chooseCourse,
  courseKey,
  loadChoice,
  memberCourses,
  needsPicker,
  saveChoice,
} from '../lib/courses';

export interface CourseState {
  /** The courses the user is in; a picker is shown only when there are several. */
  courses: Course[];
  /** The chosen course, sent with AI and judge calls; null lets the server decide. */
  course: string | null;
  /** Whether the courses are loaded (AI calls wait for it, so they name the kept course). */
  ready: boolean;
  choose: (course: string | null) => void;
  /** Load the courses again (say, after the server refused the chosen one). */
  reload: () => void;
}

/** Where the choice is kept: this server and workspace, in this browser. */
export interface CoursePlace {
  server: string;
  workspace: string;
  storage: Storage | null;
}

/** The browser's local storage, or null where it cannot be used. */
export function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** Load the user's courses and the kept choice; ``choose`` changes it for every later call. */
export function useCourse(client: IdeClient, place: CoursePlace): CourseState {
  const { server, workspace, storage } = place;
  const [courses, setCourses] = useState<Course[]>([]);
  const [course, setCourse] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const key = useRef<string | null>(null);
  const generation = useRef(0);

  const load = useCallback(async () => {
    const mine = memberCourses(await client.courses().catch(() => []));
    let chosen: string | null = null;
    let keyFound: string | null = null;
    if (needsPicker(mine)) {
      // Keyed by the server's stable name: Jupyter's own user names may change per sign-in.
      const me = await client.me().catch(() => null);
      keyFound = me ? courseKey(server, me.name, workspace) : null;
      const kept = keyFound ? loadChoice(storage, keyFound) : client.course;
      chosen = chooseCourse(mine, kept);
      if (keyFound && kept !== null && chosen === null) {
        saveChoice(storage, keyFound, null); // a course the user has left
      }
    }
    return { mine, chosen, keyFound };
  }, [client, server, workspace, storage]);

  const reload = useCallback(() => {
    const ticket = ++generation.current;
    void load().then(({ mine: found, chosen, keyFound }) => {
      if (ticket !== generation.current) {
        return; // a newer load is under way
      }
      key.current = keyFound;
      client.setCourse(chosen);
      setCourses(found);
      setCourse(chosen);
      setReady(true);
    });
  }, [client, load]);

  useEffect(() => {
    reload();
    return () => {
      generation.current += 1; // unmounted: drop any answer still on its way
    };
  }, [reload]);

  const choose = useCallback(
    (next: string | null) => {
      const chosen = next || null;
      client.setCourse(chosen);
      if (key.current) {
        saveChoice(storage, key.current, chosen);
      }
      setCourse(chosen);
    },
    [client, storage],
  );

  return { courses, course, ready, choose, reload };
}
