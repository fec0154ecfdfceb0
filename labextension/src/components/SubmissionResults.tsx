/** One submission's grade as its student may see it: visible tests' results, released feedback. */
import type { AssignmentSubmission } from '../lib/assignments';
import { isPending } from '../lib/assignments';

function points(n: number | null): string {
  return n === null ? '–' : String(Math.round(n * 100) / 100);
}

export function SubmissionResults({ submission }: { submission: AssignmentSubmission }) {
  const s = submission;
  if (isPending(s)) {
    return (
      <div className="muted" data-testid="submission-pending">
        {s.status === 'grading' ? 'Grading…' : 'Waiting to be graded…'}
      </div>
    );
  }
  if (s.error) {
    return <div className="banner banner-error">{s.error}</div>;
  }
  return (
    <div className="submission-results">
      <div className="submission-score" data-testid="submission-score">
        Visible tests: {points(s.visibleScore)} / {points(s.visibleMaxScore)}
        {s.lateDays ? ` · ${s.lateDays} day(s) late, −${points(s.penaltyPercent)}%` : ''}
      </div>
      {s.results.length === 0 ? (
        <div className="muted">No test results you can see yet.</div>
      ) : (
        <ul className="test-list" data-testid="submission-tests">
          {s.results.map((r, i) => (
            <li
              key={`${r.name}-${i}`}
              className={`test-case ${r.status === 'passed' ? 'test-passed' : 'test-failed'}`}
              data-testid="submission-test"
            >
              <div className="test-head">
                <span className="assignment-test-name">{r.name}</span>
                <span className={`test-badge badge-${r.status === 'passed' ? 'passed' : 'failed'}`}>
                  {r.status}
                </span>
                <span className="muted">
                  {points(r.score)} / {points(r.maxScore)}
                </span>
              </div>
              {r.output && <pre className="test-detail">{r.output}</pre>}
            </li>
          ))}
        </ul>
      )}
      {s.feedback && (
        <div className="submission-feedback" data-testid="submission-feedback">
          <div>
            Grade: {points(s.feedback.score)} / {points(s.feedback.maxScore)}
          </div>
          {Object.entries(s.feedback.manual).map(([item, p]) => (
            <div key={item} className="muted">
              {item}: {points(p)}
            </div>
          ))}
          {s.feedback.comments.map((c, i) => (
            <div key={i} className="submission-comment">
              <span className="muted">
                {c.path}:{c.line}
              </span>{' '}
              {c.text}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
