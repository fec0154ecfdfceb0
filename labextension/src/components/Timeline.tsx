/** A student's activity in a course, in order: edits, saves, pastes, runs, submissions, AI. */
import { useCallback, useEffect, useState } from 'react';
import { errorMessage, type IdeClient } from '../api/client';
import { describeEvent, type Timeline as TimelineData } from '../lib/activity';
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

  const load = useCallback(async () => {
    try {
      setData(await client.timeline(course, student));
      setProblem(null);
    } catch (e) {
      setProblem(await errorMessage(e));
    }
  }, [client, course, student]);

  useEffect(() => {
    if (visible) {
      void load();
    }
  }, [visible, load]);

  return (
    <div className="timeline" data-testid="timeline">
      <div className="panel-header">
        <strong>Timeline{data?.student ? `: ${data.student}` : ''}</strong>
        <span className="toolbar-spacer" />
        <button data-testid="timeline-refresh" onClick={() => void load()}>
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
