/** A student's activity in a course, in order: edits, saves, pastes, runs, submissions, AI. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage, type IdeClient } from '../api/client';
import { describeEvent, TIMELINE_POLL_MS, type Timeline as TimelineData } from '../lib/activity';
import { formatWhen } from '../lib/time';
import { Replay } from './Replay';

interface Props {
  client: IdeClient;
  course: string;
  /** The student ('' for oneself). */
  student: string;
  visible: boolean;
}

export function Timeline({ client, course, student, visible }: Props) {
  const [data, setData] = useState<TimelineData | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [replay, setReplay] = useState<string | null>(null);

  const etag = useRef<string | null>(null);

  /** Load the timeline; unless ``force``, only when it changed (the server's ETag). */
  const load = useCallback(
    async (force = false) => {
      try {
        const found = await client.timelineIfChanged(course, student, force ? null : etag.current);
        if (found) {
          etag.current = found.etag;
          setData(found.timeline);
        }
        setProblem(null);
      } catch (e) {
        setProblem(await errorMessage(e));
      }
    },
    [client, course, student],
  );

  useEffect(() => {
    if (!visible) {
      return;
    }
    void load(true);
    // New events appear by themselves: an unchanged timeline is a cheap 304.
    const poll = window.setInterval(() => void load(), TIMELINE_POLL_MS);
    return () => window.clearInterval(poll);
  }, [visible, load]);

  return (
    <div className="timeline" data-testid="timeline">
      <div className="panel-header">
        <strong>Timeline{data?.student ? `: ${data.student}` : ''}</strong>
        <span className="toolbar-spacer" />
        <button data-testid="timeline-refresh" onClick={() => void load(true)}>
          Refresh
        </button>
      </div>
      {problem && <div className="banner banner-error">{problem}</div>}
      {data && data.events.length === 0 && <p className="muted">No activity yet.</p>}
      <ol className="timeline-events">
        {data?.events.map((e, i) => (
          <li
            key={`${e.time}-${i}`}
            className={`timeline-event timeline-${e.kind}`}
            data-testid={`timeline-${e.kind}`}
          >
            <span className="muted">{formatWhen(e.time)}</span>{' '}
            {e.path ? (
              <button
                className="link-button"
                title="Replay this file's saved versions"
                onClick={() => setReplay(e.path)}
              >
                {e.path}
              </button>
            ) : null}{' '}
            {describeEvent(e)}
            {e.codeHead && (
              <pre className="timeline-code muted" title="The first lines of the code run">
                {e.codeHead}
              </pre>
            )}
          </li>
        ))}
      </ol>
      {replay && data && (
        <Replay
          client={client}
          course={course}
          student={data.student}
          path={replay}
          onClose={() => setReplay(null)}
        />
      )}
    </div>
  );
}
