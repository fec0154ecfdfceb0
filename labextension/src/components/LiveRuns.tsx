/** A course member's last runs with their output, newest first. */
import type { LiveRun } from '../lib/live';

interface Props {
  runs: LiveRun[] | null;
}

export function LiveRuns({ runs }: Props) {
  if (runs === null) {
    return <p className="muted">Loading runs…</p>;
  }
  if (runs.length === 0) {
    return (
      <p className="muted" data-testid="live-runs-empty">
        No runs yet.
      </p>
    );
  }
  return (
    <ol className="assignment-list" data-testid="live-runs">
      {runs.map((run) => (
        <li key={run.token} className="assignment" data-testid="live-run">
          <div className="assignment-head">
            <strong>{run.language}</strong>
            <span className="toolbar-spacer" />
            <span className="muted">
              {run.status}
              {run.exitCode !== null ? ` · exit ${run.exitCode}` : ''}
              {run.createdAt ? ` · ${new Date(run.createdAt).toLocaleTimeString()}` : ''}
            </span>
          </div>
          {run.compileOutput && <pre className="live-output">{run.compileOutput}</pre>}
          {run.stdout && (
            <pre className="live-output" data-testid="live-run-stdout">
              {run.stdout}
            </pre>
          )}
          {run.stderr && (
            <pre className="live-output live-stderr" data-testid="live-run-stderr">
              {run.stderr}
            </pre>
          )}
        </li>
      ))}
    </ol>
  );
}
