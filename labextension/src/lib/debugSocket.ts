/** Debugging C and C++: lldb-vscode in a sandbox, DAP over /ide/api/debug/ws/<language>. */
import { URLExt } from '@jupyterlab/coreutils';
import type { ServerConnection } from '@jupyterlab/services';
import { debugStore, type DebugLocation } from './debugStore';
import {
  DebugSession,
  type DapEvent,
  type DapResponse,
  type DapTransport,
  type Debugger,
} from './debugSession';

const REQUEST_TIMEOUT_MS = 60_000;

/** What the server answers to the start message. */
interface Started {
  type: 'started' | 'error';
  sourcePath?: string;
  message?: string;
}

/** The websocket URL of the debug socket for ``language`` (the token as Jupyter's sockets do). */
export function debugSocketUrl(settings: ServerConnection.ISettings, language: string): string {
  const url = URLExt.join(settings.wsUrl, 'ide', 'api', 'debug', 'ws', language);
  return settings.token ? `${url}?token=${encodeURIComponent(settings.token)}` : url;
}

/** Open the socket, send the program and wait for the server's answer. */
async function open(url: string, name: string, source: string): Promise<[WebSocket, string]> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.onopen = () => ws.send(JSON.stringify({ type: 'start', name, source }));
    ws.onerror = () => reject(new Error('The debugger’s connection failed'));
    ws.onclose = (e) => reject(new Error(e.reason || 'The debugger’s connection closed'));
    ws.onmessage = (e) => {
      const answer = JSON.parse(String(e.data)) as Started;
      if (answer.type === 'started' && answer.sourcePath) {
        resolve([ws, answer.sourcePath]);
      } else {
        reject(new Error(answer.message || 'The debugger did not start'));
      }
    };
  });
}

/** DAP over an open debug socket: one JSON message per frame. */
export function socketTransport(
  ws: WebSocket,
): DapTransport & { events: Set<(e: DapEvent) => void> } {
  let seq = 0;
  const pending = new Map<number, (r: DapResponse) => void>();
  const events = new Set<(e: DapEvent) => void>();
  ws.onmessage = (e) => {
    const message = JSON.parse(String(e.data)) as Record<string, unknown>;
    if (message.type === 'response') {
      pending.get(Number(message.request_seq))?.(message as unknown as DapResponse);
      pending.delete(Number(message.request_seq));
    } else if (message.type === 'event') {
      events.forEach((l) => l(message as unknown as DapEvent));
    }
  };
  ws.onclose = () => {
    pending.forEach((resolve) => resolve({ success: false, message: 'The debugger has ended' }));
    pending.clear();
    events.forEach((l) => l({ event: 'terminated' }));
  };
  return {
    events,
    request(command, args) {
      seq += 1;
      const id = seq;
      return new Promise((resolve) => {
        // An adapter that never answers must not leave the panel waiting for ever.
        const timer = window.setTimeout(() => {
          pending.delete(id);
          resolve({ success: false, command, message: `The debugger did not answer ${command}` });
        }, REQUEST_TIMEOUT_MS);
        pending.set(id, (response) => {
          window.clearTimeout(timer);
          resolve(response);
        });
        ws.send(JSON.stringify({ seq: id, type: 'request', command, arguments: args }));
      });
    },
    onEvent(listener) {
      events.add(listener);
      return () => events.delete(listener);
    },
  };
}

/** A C or C++ program of an editor, compiled with -g and run under lldb-vscode. */
export class SocketDebugger implements Debugger {
  private stopStore: () => void = () => undefined;

  private constructor(
    readonly session: DebugSession,
    private ws: WebSocket,
    private key: string,
    private sourcePath: string,
  ) {}

  /** Compile and launch ``source`` (the editor ``key``'s text); stop at its breakpoints. */
  static async start(
    settings: ServerConnection.ISettings,
    language: string,
    key: string,
    source: string,
  ): Promise<SocketDebugger> {
    const name = key.split('/').pop() ?? key;
    const [ws, sourcePath] = await open(debugSocketUrl(settings, language), name, source);
    const session = new DebugSession(socketTransport(ws), 'lldb');
    const debug = new SocketDebugger(session, ws, key, sourcePath);
    const initialized = new Promise<void>((resolve) => {
      const stop = session.subscribeEvents((e) => {
        if (e.event === 'initialized' || e.event === 'terminated') {
          stop();
          resolve();
        }
      });
    });
    await session.initialize(false);
    await session.request('launch', {});
    await initialized;
    await debug.sendBreakpoints();
    debug.stopStore = debugStore.subscribe(() => void debug.sendBreakpoints());
    await session.request('configurationDone');
    session.running();
    return debug;
  }

  private async sendBreakpoints(): Promise<void> {
    await this.session
      .setBreakpoints(this.sourcePath, debugStore.sourceBreakpoints(this.key))
      .catch(() => undefined);
  }

  /** The editor location of a frame's source path, when it is this program's source. */
  locate(path: string, line: number): DebugLocation | null {
    return path === this.sourcePath ? { key: this.key, line } : null;
  }

  /** End the program and its sandbox. */
  async stop(): Promise<void> {
    this.stopStore();
    this.ws.close();
    this.session.end();
    this.session.dispose();
  }
}
