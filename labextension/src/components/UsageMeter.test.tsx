import { describe, expect, it } from 'vitest';
import type { AIUsage, QuotaLimit } from '../api/client';
import { render } from '../testing/render';
import { UsageMeter } from './UsageMeter';

function limit(name: string, used: number, max: number): QuotaLimit {
  return { name, used, limit: max, ratio: used / max, resetsAt: null };
}

function usage(limits: QuotaLimit[], warning: string | null = null): AIUsage {
  return { totalTokens: 500, requests: 4, limits, warning };
}

describe('UsageMeter', () => {
  it('shows the daily token budget while no limit is near', async () => {
    const view = await render(
      <UsageMeter
        usage={usage([
          limit('user_requests_per_minute', 4, 30),
          limit('user_tokens_per_day', 50_000, 200_000),
        ])}
      />,
    );
    expect(view.byTestId('usage-meter')?.textContent).toContain('tokens per day: 50k / 200k');
    expect(view.container.querySelector('[role="meter"]')?.getAttribute('aria-valuenow')).toBe(
      '25',
    );
    await view.unmount();
  });

  it('switches to a limit that is nearly reached, with the warning', async () => {
    const view = await render(
      <UsageMeter
        usage={usage(
          [limit('user_requests_per_minute', 29, 30), limit('user_tokens_per_day', 10, 200_000)],
          'requests per minute: 97% used',
        )}
      />,
    );
    expect(view.byTestId('usage-meter')?.textContent).toContain('requests per minute: 29 / 30');
    expect(view.byTestId('usage-warning')?.textContent).toContain('97% used');
    await view.unmount();
  });

  it('shows totals without limits, and nothing without usage', async () => {
    const view = await render(<UsageMeter usage={usage([])} />);
    expect(view.byTestId('usage-meter')?.textContent).toContain('500 tokens in 4 requests');
    await view.unmount();
    const none = await render(<UsageMeter usage={null} />);
    expect(none.byTestId('usage-meter')).toBeNull();
    await none.unmount();
  });
});
