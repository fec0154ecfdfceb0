/** The lab dashboard: each student online or not, their file, last run, tests, hand and AI use.
 *
 * It updates by a short poll (every few seconds while shown), not a push: the figures come
 * from several tables written by every replica of the service, and a poll through the hub's
 * forward needs no sticky connection or cross-replica fan-out; one poll costs six queries. */
import { useCallback, useEffect, useState } from 'react';
import { errorMessage, type IdeClient } from '../api/client';
import { DASHBOARD_POLL_MS, type LabDashboard } from '../lib/activity';

interface Props {
  client: IdeClient;
  course: string;
  visible: boolean;
  onStudent: (student: string) => void;
}

export function Dashboard({ client, course, visible, onStudent }: Props) {
  const [data, setData] = useState<LabDashboard | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setData(await client.labDashboard(course));
      setProblem(null);
    } catch (e) {
      setProblem(await errorMessage(e));
    }
  }, [client, course]);

  useEffect(() => {
    if (!visible) {
      return;
    }
    void load();
    const timer = window.setInterval(() => void load(), DASHBOARD_POLL_MS);
    return () => window.clearInterval(timer);
  }, [visible, load]);

  return (
    <div className="lab-dashboard" data-testid="lab-dashboard">
      <div className="panel-header">
        <strong>Lab</strong>
        {data && (
          <span className="muted">
            {data.online} online · {data.hands} hands
            {data.assignment ? ` · tests of ${data.assignment}` : ''}
          </span>
        )}
      </div>
      {problem && <div className="banner banner-error">{problem}</div>}
      <table className="lab-table">
        <thead>
          <tr>
            <th>Student</th>
            <th>File</th>
            <th>Last run</th>
            <th>Failing</th>
            <th>Hand</th>
            <th>AI (10 min)</th>
          </tr>
        </thead>
        <tbody>
          {data?.students.map((s) => (
            <tr key={s.student} data-testid={`lab-row-${s.student}`}>
              <td>
                <span title={s.online ? 'online' : 'offline'}>{s.online ? '●' : '○'}</span>{' '}
                <button className="link-button" onClick={() => onStudent(s.student)}>
                  {s.student}
                </button>
              </td>
              <td>{s.path ?? ''}</td>
              <td className={s.lastRunOk === false ? 'lab-bad' : ''}>{s.lastRun ?? ''}</td>
              <td>{s.failingTests === null ? '' : `${s.failingTests}/${s.tests ?? 0}`}</td>
              <td>{s.handRaised ? '✋' : ''}</td>
              <td>{s.aiRequests || ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
