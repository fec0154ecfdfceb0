/** AI transcripts of a course: every student's for its instructors, one's own for students. */
import { useCallback, useEffect, useState } from 'react';
import { refusal, type IdeClient } from '../api/client';
import { downloadBytes } from '../lib/download';
import type { Transcripts } from '../lib/teaching';
import { formatWhen } from '../lib/time';

interface Props {
  client: IdeClient;
  course: string;
  /** Instructors filter by student and export; students read their own. */
  instructor: boolean;
  visible: boolean;
}

export function TranscriptsView({ client, course, instructor, visible }: Props) {
  const [found, setFound] = useState<Transcripts | null>(null);
  const [student, setStudent] = useState('');
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setFound(await client.transcripts(course, instructor ? student.trim() : ''));
      setError(null);
    } catch (e) {
      setError((await refusal(e)).message);
    }
  }, [client, course, instructor, student]);

  useEffect(() => {
    if (visible) {
      void load();
    }
    // Loaded when shown; the student filter loads on demand.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [visible, course]);

  const exportAs = async (format: 'csv' | 'jsonl') => {
    try {
      const text = await client.transcriptsExport(course, format, student.trim());
      const type = format === 'csv' ? 'text/csv' : 'application/x-ndjson';
      const who = student.trim() ? `-${student.trim()}` : '';
      downloadBytes(
        new TextEncoder().encode(text),
        `${course}${who}-ai-transcripts.${format}`,
        type,
      );
    } catch (e) {
      setError((await refusal(e)).message);
    }
  };

  return (
    <section className="transcripts" data-testid="transcripts" aria-label="AI conversations">
      <div className="panel-header">
        <span className="panel-title">
          {instructor ? `AI conversations · ${course}` : `Your AI conversations · ${course}`}
        </span>
        <span className="toolbar-spacer" />
        <button aria-label="Reload the conversations" onClick={() => void load()}>
          ⟳
        </button>
      </div>
      {instructor && (
        <form
          className="assignment-actions"
          onSubmit={(e) => {
            e.preventDefault();
            void load();
          }}
        >
          <input
            data-testid="transcripts-student"
            aria-label="Student"
            placeholder="All students"
            value={student}
            onChange={(e) => setStudent(e.target.value)}
          />
          <button type="submit">Show</button>
          <button type="button" data-testid="transcripts-csv" onClick={() => void exportAs('csv')}>
            CSV
          </button>
          <button
            type="button"
            data-testid="transcripts-jsonl"
            onClick={() => void exportAs('jsonl')}
          >
            JSONL
          </button>
        </form>
      )}
      {found && (
        <p className="muted" data-testid="transcripts-retention">
          {instructor
            ? 'Conversations students had with the assistant in this course'
            : "Your conversations with the assistant in this course; your course's instructors can read them"}
          , kept {found.retentionDays} days.
        </p>
      )}
      {error && (
        <div className="banner banner-error" data-testid="transcripts-error">
          {error}
        </div>
      )}
      {found && found.transcripts.length === 0 && <p className="muted">None yet.</p>}
      <ul className="assignment-list">
        {(found?.transcripts ?? []).map((t) => {
          const asked = t.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
          return (
            <li key={t.id} className="assignment" data-testid="transcript">
              <details>
                <summary>
                  <span className="muted">{formatWhen(t.time)}</span>
                  {instructor && <strong> {t.student}</strong>} · {t.model}:{' '}
                  <span data-testid="transcript-question">{asked.slice(0, 120)}</span>
                </summary>
                {t.messages.map((m, i) => (
                  <div key={i} className="chat-message">
                    <strong>{m.role}</strong>
                    <pre style={{ whiteSpace: 'pre-wrap' }}>{m.content}</pre>
                  </div>
                ))}
                <div className="chat-message">
                  <strong>assistant</strong>
                  <pre style={{ whiteSpace: 'pre-wrap' }} data-testid="transcript-answer">
                    {t.answer}
                  </pre>
                </div>
              </details>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
