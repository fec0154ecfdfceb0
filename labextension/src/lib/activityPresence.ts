/** Tell the server where the user is in /ide (course and open file), every PRESENCE_MS. */
import { useEffect, useRef } from 'react';
import type { IdeClient } from '../api/client';
import { PRESENCE_MS } from './activity';

/** Send a heartbeat now, when the file or course changes, and every PRESENCE_MS while open. */
export function usePresence(client: IdeClient, course: string | null, path: string | null): void {
  const pathRef = useRef(path);
  pathRef.current = path;
  useEffect(() => {
    if (!course) {
      return;
    }
    const beat = () =>
      void Promise.resolve()
        .then(() => client.presence(course, pathRef.current))
        .catch(() => undefined);
    beat();
    const timer = window.setInterval(beat, PRESENCE_MS);
    return () => window.clearInterval(timer);
  }, [client, course, path]);
}
