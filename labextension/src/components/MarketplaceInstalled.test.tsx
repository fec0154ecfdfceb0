import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { MarketplaceClient } from '../extensions/client';
import type { Install } from '../extensions/permissions';
import type { RuntimeState } from '../extensions/store';
import { render } from '../testing/render';
import { MarketplaceInstalled } from './MarketplaceInstalled';

const STATE: RuntimeState = {
  statusItems: [],
  panels: [
    { extension: 'examples.course-helper', id: 'help', title: 'Instructions', text: 'Do it' },
  ],
  commands: [],
  stopped: { 'examples.spin': 'stopped: it stopped responding (an endless loop?)' },
  panelOpen: true,
};

function install(name: string, over: Partial<Install> = {}): Install {
  return {
    name,
    displayName: name,
    version: '1.0.0',
    latestVersion: '1.0.0',
    enabled: true,
    granted: [],
    settings: {},
    notice: null,
    lockedByCourse: null,
    permissions: [],
    manifest: {},
    integrity: 'sha256-x',
    ...over,
  };
}

describe('MarketplaceInstalled', () => {
  it('offers no uninstall for a course-locked extension and says why', async () => {
    const view = await render(
      <MarketplaceInstalled
        market={{} as MarketplaceClient}
        installs={[install('examples.course-helper', { lockedByCourse: 'cs101' })]}
        state={STATE}
        busy={false}
        act={vi.fn()}
        onCommand={vi.fn()}
      />,
    );
    expect(view.byTestId('uninstall-examples.course-helper')).toBeNull();
    expect(view.byTestId('locked-examples.course-helper')?.textContent).toContain(
      'cs101 requires this extension: it cannot be uninstalled',
    );
    expect(view.byTestId('panel-help')?.textContent).toContain('Do it');
    await view.unmount();
  });

  it('updates, disables and uninstalls through the store, and shows why one stopped', async () => {
    const change = vi.fn(async () => install('examples.spin'));
    const uninstall = vi.fn(async () => undefined);
    const market = { change, uninstall } as unknown as MarketplaceClient;
    const actions: (string | null)[] = [];
    const run = vi.fn(async (what: () => Promise<unknown>, touched: string | null) => {
      actions.push(touched);
      await what();
    });
    const view = await render(
      <MarketplaceInstalled
        market={market}
        installs={[install('examples.spin', { latestVersion: '1.1.0' })]}
        state={STATE}
        busy={false}
        act={run}
        onCommand={vi.fn()}
      />,
    );
    expect(view.byTestId('stopped-examples.spin')?.textContent).toContain('stopped responding');
    await act(async () => view.byTestId('update-examples.spin')?.click());
    expect(change).toHaveBeenCalledWith('examples.spin', { version: '1.1.0' });
    await act(async () => view.byTestId('enable-examples.spin')?.click());
    expect(change).toHaveBeenCalledWith('examples.spin', { enabled: false });
    await act(async () => view.byTestId('uninstall-examples.spin')?.click());
    expect(uninstall).toHaveBeenCalledWith('examples.spin');
    expect(actions).toEqual(['examples.spin', 'examples.spin', null]);
    await view.unmount();
  });
});
