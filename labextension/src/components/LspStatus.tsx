/** The status bar's part for language servers: each one's state (ready, reconnecting...). */
import { useSyncExternalStore } from 'react';
import { getServers, subscribe } from '../lsp/store';

const LABELS: Record<string, string> = {
  starting: 'starting…',
  ready: 'ready',
  reconnecting: 'reconnecting…',
  failed: 'failed',
};

export function LspStatus() {
  const servers = useSyncExternalStore(subscribe, getServers);
  return (
    <>
      {servers.map((server) => (
        <span
          key={server.key}
          className={`status-item ${server.state === 'ready' ? 'status-ok' : 'status-warn'}`}
          data-testid={`lsp-status-${server.key}`}
          data-state={server.state}
          title={server.detail || `Language server ${server.key}`}
        >
          {server.key}: {LABELS[server.state] ?? server.state}
        </span>
      ))}
    </>
  );
}
