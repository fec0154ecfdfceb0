/** The instructor's help queue: raised hands in order with waiting times; answer, open. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { refusal, type IdeClient } from '../api/client';
import type { LiveTarget } from '../lib/live';
import { formatWaiting, waitedNow, type HelpRequest } from '../lib/teaching';
import { LiveFile } from './LiveFile';
import type { Notify } from './Toasts';

const POLL_MS = 3000;

interface Props {
  client: IdeClient;
  course: string;
  visible: boolean;
  notify: Notify;
}

export function HelpQueueInstructor({ client, course, visible, notify }: Props) {
  const [queue, setQueue] = useState<HelpRequest[] | null>(null);
  const [loadedAt, setLoadedAt] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const [notes, setNotes] = useState<Record<number, string>>({});
  const [returning, setReturning] = useState<number | null>(null);
  const [file, setFile] = useState<LiveTarget | null>(null);
  const [pairing, setPairing] = useState(false);
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ticket = useRef(0);

  const load = useCallback(async () => {
    const mine = ++ticket.current;
    try {
      const found = await client.helpQueue(course);
      if (mine === ticket.current && found.role === 'instructor') {
        setQueue(found.queue);
        setLoadedAt(Date.now());
        setError(null);
      }
    } catch (e) {
      if (mine === ticket.current) {
        setError((await refusal(e)).message);
      }
    }
  }, [client, course]);

  useEffect(() => {
    if (!visible) {
      return;
    }
    void load();
    const poll = window.setInterval(() => void load(), POLL_MS);
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => {
      window.clearInterval(poll);
      window.clearInterval(tick);
    };
  }, [load, visible]);

  const answer = async (request: HelpRequest, outcome: 'resolve' | 'return') => {
    setBusy(request.id);
    try {
      await client.closeHelp(course, request.id, outcome, notes[request.id] ?? '');
      setReturning(null);
      notify(
        'info',
        `${request.student}'s request is ${outcome === 'resolve' ? 'resolved' : 'returned'}.`,
      );
      await load();
    } catch (e) {
      setError((await refusal(e)).message);
    } finally {
      setBusy(null);
    }
  };

  const openFile = async (request: HelpRequest) => {
    // The student's live view at that line: their file as they type it, not only as saved.
    if (!request.path) {
      return;
    }
    setPairing(await client.livePairEditing(course).catch(() => false));
    setFile({ course, student: request.student, path: request.path, line: request.line });
  };

  return (
    <section className="help-queue" data-testid="help-queue" aria-label="Help queue">
      <div className="panel-header">
        <span className="panel-title">Help queue · {course}</span>
        <span className="toolbar-spacer" />
        <span className="muted" data-testid="help-queue-count">
          {queue === null ? '' : `${queue.length} waiting`}
        </span>
        <button aria-label="Reload the queue" onClick={() => void load()}>
          ⟳
        </button>
      </div>
      {error && (
        <div className="banner banner-error" data-testid="help-error">
          {error}
        </div>
      )}
      {queue !== null && queue.length === 0 && (
        <p className="muted" data-testid="help-queue-empty">
          No hands raised.
        </p>
      )}
      <ol className="assignment-list">
        {(queue ?? []).map((request) => (
          <li key={request.id} className="assignment" data-testid="help-request">
            <div className="assignment-head">
              <strong data-testid="help-student">{request.student}</strong>
              <span className="toolbar-spacer" />
              <span className="muted" data-testid="help-waiting" title="Waiting">
                {formatWaiting(waitedNow(request, loadedAt, now))}
              </span>
            </div>
            <div data-testid="help-request-message">{request.message}</div>
            {request.path && (
              <button
                className="help-link"
                data-testid="help-open-file"
                title="Open the student's live view at this line"
                onClick={() => void openFile(request)}
              >
                {request.path}
                {request.line ? `:${request.line}` : ''}
              </button>
            )}
            {returning === request.id && (
              <textarea
                data-testid="help-note"
                aria-label="A note for the student"
                rows={2}
                maxLength={2000}
                value={notes[request.id] ?? ''}
                onChange={(e) => setNotes((prev) => ({ ...prev, [request.id]: e.target.value }))}
              />
            )}
            <div className="assignment-actions">
              <button
                data-testid="help-resolve"
                disabled={busy === request.id}
                onClick={() => void answer(request, 'resolve')}
              >
                Resolve
              </button>
              {returning === request.id ? (
                <button
                  data-testid="help-return-send"
                  disabled={busy === request.id || !(notes[request.id] ?? '').trim()}
                  onClick={() => void answer(request, 'return')}
                >
                  Return with note
                </button>
              ) : (
                <button data-testid="help-return" onClick={() => setReturning(request.id)}>
                  Return…
                </button>
              )}
            </div>
          </li>
        ))}
      </ol>
      {file && (
        <LiveFile
          key={`${file.student}/${file.path}/${file.line ?? ''}`}
          settings={client.serverSettings}
          target={file}
          writable={pairing}
          onClose={() => setFile(null)}
          testId="help-file"
        />
      )}
    </section>
  );
}
