import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoff, LspConnection, type ConnectionHooks } from './connection';

// The package exports its browser build under the "browser" condition only; Vitest runs as
// Node, so the same classes come from its Node build.
vi.mock('./rpc', () => import('vscode-languageserver-protocol/node'));

interface Sent {
  id?: number;
  method?: string;
  params?: unknown;
}

/** A socket the test plays the server side of: it sees each frame the client sends. */
class ServerSocket extends EventTarget {
  static all: ServerSocket[] = [];
  static readonly OPEN = 1;
  readyState = 0;
  sent: Sent[] = [];

  constructor(readonly url: string) {
    super();
    ServerSocket.all.push(this);
    queueMicrotask(() => {
      this.readyState = 1;
      this.dispatchEvent(new Event('open'));
    });
  }

  send(data: string): void {
    const message = JSON.parse(data) as Sent;
    this.sent.push(message);
    if (message.method === 'initialize') {
      this.reply({ id: message.id, result: { capabilities: { hoverProvider: true } } });
    }
    if (message.method === 'textDocument/hover') {
      this.reply({ id: message.id, result: { contents: 'a hover' } });
    }
    if (message.method === 'textDocument/definition') {
      const error = {
        code: -32603,
        message: 'the language server ended (killed) and was restarted',
      };
      this.reply({ id: message.id, error });
    }
  }

  reply(message: object): void {
    const data = JSON.stringify({ jsonrpc: '2.0', ...message });
    queueMicrotask(() => this.dispatchEvent(new MessageEvent('message', { data })));
  }

  close(): void {
    this.readyState = 3;
    this.dispatchEvent(new Event('close'));
  }
}

function hooks() {
  const states: string[] = [];
  const calls = { ready: 0, diagnostics: [] as [string, unknown[]][], states };
  const h: ConnectionHooks = {
    onReady: () => (calls.ready += 1),
    onDiagnostics: (uri, d) => calls.diagnostics.push([uri, d]),
    onState: (state) => states.push(state),
    onApplyEdit: () => Promise.resolve(true),
  };
  return { h, calls };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error('condition not met in time');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('LspConnection', () => {
  beforeEach(() => {
    ServerSocket.all = [];
    vi.stubGlobal('WebSocket', ServerSocket);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('initializes with the root, then answers requests one frame each', async () => {
    const { h, calls } = hooks();
    const connection = new LspConnection('pylsp', 'ws://x/lsp/ws/pylsp', 'file:///w', h);
    connection.start();
    const hover = await connection.request<{ contents: string }>('textDocument/hover', {});
    expect(hover.contents).toBe('a hover');
    const socket = ServerSocket.all[0];
    expect(socket?.sent.map((m) => m.method)).toEqual([
      'initialize',
      'initialized',
      'textDocument/hover',
    ]);
    expect(socket?.sent[0]?.params).toMatchObject({ rootUri: 'file:///w' });
    expect(connection.capabilities.hoverProvider).toBe(true);
    expect(calls.ready).toBe(1);
    expect(calls.states).toEqual(['starting', 'ready']);
    connection.dispose();
  });

  it('hands published diagnostics over and answers configuration requests', async () => {
    const { h, calls } = hooks();
    const connection = new LspConnection('pylsp', 'ws://x', 'file:///w', h);
    connection.start();
    await until(() => calls.ready === 1);
    const socket = ServerSocket.all[0];
    socket?.reply({
      method: 'textDocument/publishDiagnostics',
      params: { uri: 'file:///w/a.py', diagnostics: [{ message: 'x' }] },
    });
    socket?.reply({ id: 'c1', method: 'workspace/configuration', params: { items: [{}, {}] } });
    await until(() => calls.diagnostics.length === 1 && (socket?.sent.length ?? 0) >= 3);
    expect(calls.diagnostics[0]?.[0]).toBe('file:///w/a.py');
    expect(socket?.sent.find((m) => m.id === ('c1' as unknown))).toMatchObject({
      result: [null, null],
    });
    connection.dispose();
  });

  it('reconnects after the socket closes and initializes again (documents reopened)', async () => {
    const { h, calls } = hooks();
    const connection = new LspConnection('pylsp', 'ws://x', 'file:///w', h);
    connection.start();
    await until(() => calls.ready === 1);
    ServerSocket.all[0]?.close();
    expect(calls.states.at(-1)).toBe('reconnecting');
    // A request made while away waits for the new connection instead of failing.
    const hover = connection.request<{ contents: string }>('textDocument/hover', {});
    await until(() => calls.ready === 2);
    expect((await hover).contents).toBe('a hover');
    expect(ServerSocket.all).toHaveLength(2);
    expect(calls.states.at(-1)).toBe('ready');
    connection.dispose();
  });

  it('shows a server restarted behind the socket until it answers again', async () => {
    const { h, calls } = hooks();
    const connection = new LspConnection('pylsp', 'ws://x', 'file:///w', h);
    connection.start();
    await until(() => calls.ready === 1);
    await expect(connection.request('textDocument/definition', {})).rejects.toThrow(/restarted/);
    expect(calls.states.at(-1)).toBe('reconnecting');
    await connection.request('textDocument/hover', {});
    expect(calls.states.at(-1)).toBe('ready');
    expect(ServerSocket.all).toHaveLength(1);
    connection.dispose();
  });

  it('backs off more on each failed attempt, up to a ceiling', () => {
    expect(backoff(0)).toBeLessThan(backoff(2));
    expect(backoff(10)).toBe(backoff(100));
    expect(backoff(100)).toBeLessThanOrEqual(2000);
  });
});
