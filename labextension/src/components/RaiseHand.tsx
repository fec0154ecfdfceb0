/** A student's raised hand: a message linked to the open file and line, and their place. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { refusal, type IdeClient } from '../api/client';
import type { EditorHandle } from '../lib/editorHandle';
import { positionText, type StudentHelp } from '../lib/teaching';
import { formatWhen } from '../lib/time';
import type { Notify } from './Toasts';

const POLL_MS = 5000;
const MAX_MESSAGE = 2000;

interface Props {
  client: IdeClient;
  course: string;
  /** The open editor: its file and cursor line are linked to the request. */
  getEditor: () => EditorHandle | null;
  visible: boolean;
  notify: Notify;
}

export function RaiseHand({ client, course, getEditor, visible, notify }: Props) {
  const [view, setView] = useState<StudentHelp | null>(null);
  const [message, setMessage] = useState('');
  const [linkFile, setLinkFile] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ticket = useRef(0);

  const load = useCallback(async () => {
    const mine = ++ticket.current;
    try {
      const found = await client.helpQueue(course);
      if (mine === ticket.current && found.role === 'student') {
        setView(found);
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
    const timer = window.setInterval(() => void load(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [load, visible]);

  const editor = getEditor();
  const where = editor ? { path: editor.path, line: editor.context().cursorLine } : null;

  const raise = async () => {
    setBusy(true);
    try {
      const link = linkFile ? getEditor() : null;
      await client.raiseHand(course, {
        message,
        path: link?.path ?? null,
        line: link ? link.context().cursorLine : null,
      });
      setMessage('');
      notify('info', view?.open ? 'Your request is updated.' : 'Your hand is raised.');
      await load();
    } catch (e) {
      setError((await refusal(e)).message);
    } finally {
      setBusy(false);
    }
  };

  const lower = async () => {
    setBusy(true);
    try {
      await client.lowerHand(course);
      await load();
    } catch (e) {
      setError((await refusal(e)).message);
    } finally {
      setBusy(false);
    }
  };

  const open = view?.open ?? null;
  const answered = view?.closed.find((r) => r.status !== 'withdrawn') ?? null;
  return (
    <section className="raise-hand" data-testid="raise-hand" aria-label="Raise your hand">
      <div className="banner banner-info" data-testid="help-position">
        {positionText(view?.position ?? null)}
      </div>
      {open && (
        <div className="assignment" data-testid="help-open">
          <div>{open.message}</div>
          {open.path && (
            <div className="muted">
              {open.path}
              {open.line ? `:${open.line}` : ''} · raised {formatWhen(open.raisedAt)}
            </div>
          )}
          <div className="assignment-actions">
            <button data-testid="help-lower" disabled={busy} onClick={() => void lower()}>
              Lower my hand
            </button>
          </div>
        </div>
      )}
      {!open && answered && (
        <div className="assignment" data-testid="help-answered">
          <div>
            {answered.status === 'returned' ? 'Returned' : 'Resolved'} by {answered.closedBy}
            {answered.closedAt ? ` at ${formatWhen(answered.closedAt)}` : ''}
          </div>
          {answered.note && <div data-testid="help-note">{answered.note}</div>}
        </div>
      )}
      <form
        className="new-assignment"
        onSubmit={(e) => {
          e.preventDefault();
          void raise();
        }}
      >
        <label>
          {open ? 'Change your request' : 'What do you need help with?'}
          <textarea
            data-testid="help-message"
            rows={3}
            maxLength={MAX_MESSAGE}
            value={message}
            onChange={(e) => setMessage(e.target.value)}
          />
        </label>
        <label className="inline-toggle">
          <input
            type="checkbox"
            data-testid="help-link-file"
            checked={linkFile && where !== null}
            disabled={where === null}
            onChange={(e) => setLinkFile(e.target.checked)}
          />
          {where ? `Link ${where.path}, line ${where.line}` : 'Open a file to link it'}
        </label>
        <button type="submit" data-testid="help-raise" disabled={busy || !message.trim()}>
          {open ? 'Update my request' : '✋ Raise my hand'}
        </button>
      </form>
      {error && (
        <div className="banner banner-error" data-testid="help-error">
          {error}
        </div>
      )}
    </section>
  );
}
