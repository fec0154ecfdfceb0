/** How much of their AI quota the student has used, as a bar with the numbers beside it. */
import type { AIUsage } from '../api/client';

function label(name: string): string {
  return name.replace(/^(user|course)_/, '').replace(/_/g, ' ');
}

function compact(n: number): string {
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n);
}

export function UsageMeter({ usage }: { usage: AIUsage | null }) {
  if (!usage) {
    return null;
  }
  // The daily token budget, unless another limit is close to being reached.
  const nearest = [...usage.limits].sort((a, b) => b.ratio - a.ratio)[0];
  const daily = usage.limits.find((l) => l.name === 'user_tokens_per_day');
  const top = nearest && (nearest.ratio >= 0.8 || !daily) ? nearest : daily;
  const details = usage.limits
    .map(
      (l) =>
        `${label(l.name)}: ${l.used} of ${l.limit}${l.resetsAt ? `, resets ${l.resetsAt}` : ''}`,
    )
    .join('\n');
  const percent = top ? Math.min(100, Math.round(top.ratio * 100)) : 0;
  return (
    <div className="usage-meter" data-testid="usage-meter" title={details || undefined}>
      {top ? (
        <>
          <div
            className={`usage-bar ${percent >= 80 ? 'usage-high' : ''}`}
            role="meter"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
            aria-label={`AI usage: ${label(top.name)}`}
          >
            <div className="usage-fill" style={{ width: `${percent}%` }} />
          </div>
          <span className="usage-text">
            {label(top.name)}: {compact(top.used)} / {compact(top.limit)}
          </span>
        </>
      ) : (
        <span className="usage-text">
          {usage.totalTokens} tokens in {usage.requests} requests
        </span>
      )}
      {usage.warning && (
        <div className="usage-warning" data-testid="usage-warning">
          {usage.warning}
        </div>
      )}
    </div>
  );
}
