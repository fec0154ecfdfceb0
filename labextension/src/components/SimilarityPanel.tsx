/** An instructor's similarity check of an assignment: start, progress, ranked pairs. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { refusal, type IdeClient, type SimilarityPair, type SimilarityStatus } from '../api/client';
import { formatWhen } from '../lib/time';
import { percent, SimilarityPairView } from './SimilarityPairView';

interface Props {
  client: IdeClient;
  course: string;
  assignment: string;
}

const PAGE = 50;
const POLL_MS = 1000;

export function SimilarityPanel({ client, course, assignment }: Props) {
  const [state, setState] = useState<SimilarityStatus | null>(null);
  const [pairs, setPairs] = useState<SimilarityPair[]>([]);
  const [stored, setStored] = useState(0);
  const [chosen, setChosen] = useState<number | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const resultId = useRef<number | null>(null);

  const loadPairs = useCallback(
    async (offset: number) => {
      const page = await client.similarityPairs(course, assignment, offset, PAGE);
      setStored(page.stored);
      setPairs((old) => (offset === 0 ? page.pairs : [...old, ...page.pairs]));
    },
    [client, course, assignment],
  );

  const load = useCallback(async () => {
    try {
      const found = await client.similarityStatus(course, assignment);
      setState(found);
      if (found.result && found.result.id !== resultId.current) {
        resultId.current = found.result.id;
        setChosen(null);
        await loadPairs(0);
      }
      setProblem(null);
    } catch (e) {
      setProblem((await refusal(e)).message);
    }
  }, [client, course, assignment, loadPairs]);

  useEffect(() => {
    void load();
  }, [load]);

  const running = state?.run?.status === 'running';
  useEffect(() => {
    if (!running) {
      return;
    }
    const timer = window.setInterval(() => void load(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [running, load]);

  const start = async () => {
    setBusy(true);
    try {
      await client.startSimilarity(course, assignment);
      await load();
    } catch (e) {
      setProblem((await refusal(e)).message);
    } finally {
      setBusy(false);
    }
  };

  const run = state?.run ?? null;
  const result = state?.result ?? null;
  return (
    <section className="similarity" data-testid="similarity-panel">
      <div className="panel-header">
        <span className="panel-title">Similarity · {assignment}</span>
        <span className="toolbar-spacer" />
        <button
          data-testid="similarity-start"
          disabled={busy || running}
          onClick={() => void start()}
        >
          {running ? 'Checking…' : result ? 'Check again' : 'Check similarity'}
        </button>
      </div>
      <div className="panel-note muted">
        Each student’s latest submission against every other one’s; the starter code does not count.
      </div>
      {problem && (
        <div className="banner banner-error" data-testid="similarity-error">
          {problem}
        </div>
      )}
      {run && run.status === 'running' && (
        <div data-testid="similarity-progress">
          <progress max={100} value={run.percent} /> {run.phase} {run.done}/{run.total} ·{' '}
          {run.percent}%
        </div>
      )}
      {run && run.status === 'error' && (
        <div className="banner banner-error" data-testid="similarity-failed">
          The last check failed: {run.error}
        </div>
      )}
      {result && (
        <div className="muted" data-testid="similarity-result">
          {result.submissions} submissions, {result.pairs} pairs compared
          {result.finishedAt ? `, ${formatWhen(result.finishedAt)}` : ''}
          {result.skipped.length > 0 && (
            <details>
              <summary>{result.skipped.length} file(s) left out</summary>
              <ul>
                {result.skipped.map((s) => (
                  <li key={`${s.student}/${s.path}`}>
                    {s.student}: {s.path} ({s.reason})
                  </li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
      {result && pairs.length === 0 && (
        <div className="panel-note muted">No two submissions share code beyond the starter.</div>
      )}
      {pairs.length > 0 && (
        <table data-testid="similarity-pairs">
          <thead>
            <tr>
              <th>#</th>
              <th>Students</th>
              <th>Similarity</th>
              <th>Of each</th>
            </tr>
          </thead>
          <tbody>
            {pairs.map((p) => (
              <tr
                key={p.id}
                data-testid={`similarity-pair-${p.rank}`}
                aria-selected={chosen === p.id}
                onClick={() => setChosen(chosen === p.id ? null : p.id)}
                style={{ cursor: 'pointer' }}
              >
                <td>{p.rank}</td>
                <td>
                  {p.a.student} · {p.b.student}
                </td>
                <td>{percent(p.score)}</td>
                <td className="muted">
                  {percent(p.similarityA)} / {percent(p.similarityB)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pairs.length < stored && (
        <button data-testid="similarity-more" onClick={() => void loadPairs(pairs.length)}>
          More pairs
        </button>
      )}
      {chosen !== null && (
        <SimilarityPairView client={client} course={course} assignment={assignment} id={chosen} />
      )}
    </section>
  );
}
