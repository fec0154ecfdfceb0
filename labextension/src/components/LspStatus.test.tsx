import { act } from 'react';
import { describe, expect, it } from 'vitest';
import { setServerState } from '../lsp/store';
import { render } from '../testing/render';
import { LspStatus } from './LspStatus';

describe('LspStatus', () => {
  it('shows each server as the connection reports it, and drops closed ones', async () => {
    const view = await render(<LspStatus />);
    expect(view.container.textContent).toBe('');
    await act(async () => setServerState('pylsp', 'starting'));
    const item = () => view.byTestId('lsp-status-pylsp');
    expect(item()?.textContent).toBe('pylsp: starting…');
    await act(async () => setServerState('pylsp', 'ready'));
    expect(item()?.dataset.state).toBe('ready');
    expect(item()?.className).toContain('status-ok');
    await act(async () => setServerState('clangd', 'reconnecting', 'reconnecting in 250 ms'));
    const clangd = view.byTestId('lsp-status-clangd');
    expect(clangd?.textContent).toBe('clangd: reconnecting…');
    expect(clangd?.title).toBe('reconnecting in 250 ms');
    expect(clangd?.className).toContain('status-warn');
    await act(async () => setServerState('clangd', 'closed'));
    expect(view.byTestId('lsp-status-clangd')).toBeNull();
    expect(item()).not.toBeNull();
    await act(async () => setServerState('pylsp', 'closed'));
    await view.unmount();
  });
});
