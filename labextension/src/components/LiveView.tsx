/** The instructor's live view: pick a course member, see their files as they type, their runs. */
import { useCallback, useEffect, useState } from 'react';
import { refusal } from '../api/client';
import { liveFilePaths, type LiveEntry, type LiveMember, type LiveRun } from '../lib/live';
import type { Services } from '../services';
import { LiveFile } from './LiveFile';
import { LivePairsPanel } from './LivePairsPanel';
import { LiveNotebook } from './LiveNotebook';
import { LiveRuns } from './LiveRuns';
import { PartnerFiles } from './PartnerFiles';

const POLL_MS = 5000;

interface Props {
  services: Services;
  course: string | null;
  role: string | null;
  visible: boolean;
}

export default function LiveView({ services, course, role, visible }: Props) {
  const client = services.ide;
  const [members, setMembers] = useState<LiveMember[] | null>(null);
  const [student, setStudent] = useState<string | null>(null);
  const [files, setFiles] = useState<LiveEntry[] | null>(null);
  const [openNow, setOpenNow] = useState<string[]>([]);
  const [runs, setRuns] = useState<LiveRun[] | null>(null);
  const [path, setPath] = useState<string | null>(null);
  const [pairing, setPairing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const teaching = course !== null && role === 'instructor';

  const loadMembers = useCallback(async () => {
    if (!course) {
      return;
    }
    try {
      setMembers((await client.liveMembers(course)).filter((m) => m.role === 'student'));
      setPairing(await client.livePairEditing(course));
      setError(null);
    } catch (e) {
      setError((await refusal(e)).message);
    }
  }, [client, course]);

  const loadStudent = useCallback(async () => {
    if (!course || !student) {
      return;
    }
    try {
      const [listing, last] = await Promise.all([
        client.liveFiles(course, student),
        client.liveRuns(course, student),
      ]);
      setFiles(listing.files);
      setOpenNow(listing.open);
      setRuns(last);
      setError(null);
    } catch (e) {
      setError((await refusal(e)).message);
    }
  }, [client, course, student]);

  useEffect(() => {
    if (!visible || !teaching) {
      return;
    }
    void loadMembers();
    const poll = window.setInterval(() => void loadMembers(), POLL_MS);
    return () => window.clearInterval(poll);
  }, [loadMembers, teaching, visible]);

  useEffect(() => {
    if (!visible || !student) {
      return;
    }
    setFiles(null);
    setRuns(null);
    void loadStudent();
    const poll = window.setInterval(() => void loadStudent(), POLL_MS);
    return () => window.clearInterval(poll);
  }, [loadStudent, student, visible]);

  useEffect(() => {
    // While a member is chosen, their presence room says so to them.
    if (!course || !student || !visible) {
      return;
    }
    let leave: (() => void) | null = null;
    let gone = false;
    void import('../lib/liveBinding').then(({ watchPresence }) => {
      if (!gone) {
        leave = watchPresence(services.settings, { course, student });
      }
    });
    return () => {
      gone = true;
      leave?.();
    };
  }, [course, student, visible, services.settings]);

  if (!teaching) {
    return (
      <div className="assignments-panel" data-testid="live-view">
        <p className="muted">
          The live view shows the work of a course&apos;s students to its instructors.
        </p>
        {course && <PartnerFiles services={services} course={course} visible={visible} />}
      </div>
    );
  }

  const togglePairing = async () => {
    try {
      await client.setLivePairEditing(course, !pairing);
      setPairing(!pairing);
    } catch (e) {
      setError((await refusal(e)).message);
    }
  };

  return (
    <div className="assignments-panel" data-testid="live-view">
      <div className="panel-header">
        <span className="panel-title">Live view · {course}</span>
        <span className="toolbar-spacer" />
        <label className="muted" title="Let the course's instructors type in a student's file">
          <input
            type="checkbox"
            data-testid="live-pairing"
            checked={pairing}
            onChange={() => void togglePairing()}
          />{' '}
          pair editing
        </label>
      </div>
      {error && (
        <div className="banner banner-error" data-testid="live-error">
          {error}
        </div>
      )}
      <ul className="assignment-list" data-testid="live-members">
        {(members ?? []).map((m) => (
          <li key={m.name}>
            <button
              className={`help-link ${m.name === student ? 'sidepanel-tab-active' : ''}`}
              data-testid={`live-member-${m.name}`}
              onClick={() => {
                setStudent(m.name);
                setPath(null);
              }}
            >
              {m.name}
            </button>{' '}
            <span className="muted">{m.open.length ? `editing ${m.open.join(', ')}` : ''}</span>
          </li>
        ))}
        {members !== null && members.length === 0 && <li className="muted">No students.</li>}
      </ul>
      {members !== null && (
        <LivePairsPanel client={client} course={course} students={members.map((m) => m.name)} />
      )}
      {student && (
        <>
          <h4>{student}&apos;s files</h4>
          <ul className="assignment-list" data-testid="live-files">
            {liveFilePaths(files ?? []).map((p) => (
              <li key={p}>
                <button
                  className="help-link"
                  data-testid={`live-open-${p}`}
                  onClick={() => setPath(p)}
                >
                  {p}
                </button>{' '}
                {openNow.includes(p) && <span className="muted">(open now)</span>}
              </li>
            ))}
          </ul>
          {path && path.toLowerCase().endsWith('.ipynb') && (
            <LiveNotebook
              key={`${student}/${path}/${pairing}`}
              settings={services.settings}
              target={{ course, student, path, line: null }}
              writable={pairing}
              onClose={() => setPath(null)}
            />
          )}
          {path && !path.toLowerCase().endsWith('.ipynb') && (
            <LiveFile
              key={`${student}/${path}/${pairing}`}
              settings={services.settings}
              target={{ course, student, path, line: null }}
              writable={pairing}
              onClose={() => setPath(null)}
            />
          )}
          <h4>Last runs</h4>
          <LiveRuns runs={runs} />
        </>
      )}
    </div>
  );
}
