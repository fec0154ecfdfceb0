/** Instructors: name pair-editing partners among a course's students, and end pairs. */
import { useCallback, useEffect, useState } from 'react';
import { refusal, type IdeClient } from '../api/client';
import { unpaired, type LivePair } from '../lib/livePairs';

interface Props {
  client: IdeClient;
  course: string;
  /** The course's students, by name. */
  students: string[];
}

export function LivePairsPanel({ client, course, students }: Props) {
  const [pairs, setPairs] = useState<LivePair[]>([]);
  const [first, setFirst] = useState('');
  const [second, setSecond] = useState('');
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setPairs((await client.livePairs(course)).pairs);
      setError(null);
    } catch (e) {
      setError((await refusal(e)).message);
    }
  }, [client, course]);

  useEffect(() => {
    void load();
  }, [load]);

  const act = async (change: () => Promise<void>) => {
    try {
      await change();
      await load();
    } catch (e) {
      setError((await refusal(e)).message);
    }
  };

  const free = unpaired(students, pairs);
  return (
    <div className="live-pairs" data-testid="live-pairs">
      <h4>Pair partners</h4>
      {error && (
        <div className="banner banner-error" data-testid="live-pairs-error">
          {error}
        </div>
      )}
      <ul className="assignment-list">
        {pairs.map((p) => (
          <li key={p.students.join('+')} data-testid={`live-pair-${p.students.join('+')}`}>
            {p.students[0]} &amp; {p.students[1]}{' '}
            <button
              className="link-button"
              data-testid={`live-unpair-${p.students[0]}`}
              onClick={() => void act(() => client.unpairStudent(course, p.students[0]))}
            >
              Unpair
            </button>
          </li>
        ))}
        {pairs.length === 0 && <li className="muted">No pairs yet.</li>}
      </ul>
      <div className="live-pair-form">
        <select
          aria-label="First student"
          data-testid="live-pair-first"
          value={first}
          onChange={(e) => setFirst(e.target.value)}
        >
          <option value="">student…</option>
          {free.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>{' '}
        <select
          aria-label="Second student"
          data-testid="live-pair-second"
          value={second}
          onChange={(e) => setSecond(e.target.value)}
        >
          <option value="">partner…</option>
          {free
            .filter((n) => n !== first)
            .map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
        </select>{' '}
        <button
          data-testid="live-pair-add"
          disabled={!first || !second || first === second}
          onClick={() =>
            void act(async () => {
              await client.pairStudents(course, first, second);
              setFirst('');
              setSecond('');
            })
          }
        >
          Pair
        </button>
      </div>
    </div>
  );
}
