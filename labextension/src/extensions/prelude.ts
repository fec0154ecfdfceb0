/** What runs in an extension's worker before its own code, and the worker's entry module. */
import { moduleUrl } from './bundle';

/**
 * The prelude answers the IDE's heartbeat and gives the extension the window.parent /
 * message-event shape its api.js expects (a worker has no window). Nothing else: no
 * document, no storage, no network (the frame's CSP).
 */
export const PRELUDE = `
const channel = new MessageChannel();
const bridge = channel.port1;
bridge.postMessage = (data) => self.postMessage(data);
Object.defineProperty(self, 'window', { value: self });
Object.defineProperty(self, 'parent', { value: bridge });
self.addEventListener('message', (event) => {
  if (event.source === bridge) return;
  event.stopImmediatePropagation();
  const msg = event.data;
  if (msg && msg.type === 'ping') {
    self.postMessage({ type: 'pong', n: msg.n });
    return;
  }
  self.dispatchEvent(new MessageEvent('message', { data: msg, source: bridge }));
});
`;

/** The worker's entry: the prelude first, then the extension's bundled main module. */
export function entryModule(mainCode: string): string {
  return `import ${JSON.stringify(moduleUrl(PRELUDE))};\nimport ${JSON.stringify(moduleUrl(mainCode))};\n`;
}
