/** The language servers' states, for the status bar (tiny: loaded with the page, not the LSP chunk). */

/** Where a language server connection is. */
export type ServerState = 'starting' | 'ready' | 'reconnecting' | 'failed' | 'closed';

/** One server as the status bar shows it. */
export interface ServerStatus {
  key: string;
  state: ServerState;
  detail: string;
}

let servers: ServerStatus[] = [];
const listeners = new Set<() => void>();

/** Subscribe to changes (useSyncExternalStore's subscribe). */
export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The current list (a new array on every change). */
export function getServers(): ServerStatus[] {
  return servers;
}

/** Record a server's state. */
export function setServerState(key: string, state: ServerState, detail = ''): void {
  const others = servers.filter((s) => s.key !== key);
  servers = state === 'closed' ? others : [...others, { key, state, detail }];
  servers.sort((a, b) => a.key.localeCompare(b.key));
  listeners.forEach((l) => l());
}
