import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { MarketplaceClient, QuarantineEntry } from '../extensions/client';
import { render } from '../testing/render';
import { MarketplaceQuarantine } from './MarketplaceQuarantine';

function entry(id: number, over: Partial<QuarantineEntry> = {}): QuarantineEntry {
  return {
    id,
    namespace: 'cs-dept',
    name: `cs-dept.pkg${id}`,
    version: '1.0.0',
    reason: 'the namespace may not ask for run.code',
    submittedBy: 'alan',
    createdAt: '2026-11-29T09:00:00',
    status: 'pending',
    kept: true,
    ...over,
  };
}

describe('MarketplaceQuarantine', () => {
  it('shows nothing to those who may not review', async () => {
    const market = { quarantine: vi.fn(async () => null) } as unknown as MarketplaceClient;
    const view = await render(
      <MarketplaceQuarantine market={market} notify={vi.fn()} onReleased={vi.fn()} />,
    );
    expect(view.byTestId('marketplace-quarantine')).toBeNull();
    await view.unmount();
  });

  it('releases and rejects entries, then lists what is left', async () => {
    const lists = [
      [entry(1), entry(2, { kept: false, name: null, version: null })],
      [entry(2, { kept: false, name: null, version: null })],
      [],
    ];
    const quarantine = vi.fn(async () => lists.shift() ?? []);
    const decideQuarantine = vi.fn(async () => undefined);
    const market = { quarantine, decideQuarantine } as unknown as MarketplaceClient;
    const onReleased = vi.fn();
    const notify = vi.fn();
    const view = await render(
      <MarketplaceQuarantine market={market} notify={notify} onReleased={onReleased} />,
    );
    expect(view.byTestId('quarantine-1')?.textContent).toContain('may not ask for run.code');
    expect(view.byTestId('quarantine-2')?.textContent).toContain('an upload to cs-dept');
    const unkept = view.byTestId('quarantine-release-2') as HTMLButtonElement;
    expect(unkept.disabled).toBe(true);
    await act(async () => view.byTestId('quarantine-release-1')?.click());
    expect(decideQuarantine).toHaveBeenCalledWith(1, 'release');
    expect(onReleased).toHaveBeenCalledTimes(1);
    expect(notify).toHaveBeenCalledWith('info', 'Released cs-dept.pkg1 1.0.0');
    expect(view.byTestId('quarantine-1')).toBeNull();
    await act(async () => view.byTestId('quarantine-reject-2')?.click());
    expect(decideQuarantine).toHaveBeenCalledWith(2, 'reject');
    expect(view.byTestId('marketplace-quarantine')?.textContent).toContain('No uploads wait');
    expect(onReleased).toHaveBeenCalledTimes(1);
    await view.unmount();
  });
});
