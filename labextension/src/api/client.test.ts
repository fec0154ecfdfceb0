import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';
import { errorMessage, IdeClient, parseHealth } from './client';

const HEALTH = {
  version: '0.1.0',
  subsystems: {
    database: { state: 'ok', detail: 'sqlite' },
    sandbox: { state: 'off', detail: 'local kernels: code is not sandboxed' },
    ai: { state: 'off', detail: 'no provider configured' },
  },
};

interface Call {
  url: string;
  method: string;
}

/** A fetch that answers every request with one status and JSON body, and records the calls. */
function fakeFetch(status: number, body: unknown) {
  const calls: Call[] = [];
  const fetch = async (input: RequestInfo, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    calls.push({ url: request.url, method: request.method });
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json' },
    });
  };
  return { calls, fetch };
}

function clientWith(status: number, body: unknown) {
  const fake = fakeFetch(status, body);
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/user/ada/',
    fetch: fake.fetch,
  });
  return { client: new IdeClient(settings), calls: fake.calls };
}

describe('IdeClient.health', () => {
  it('GETs {baseUrl}ide/api/health and parses the answer', async () => {
    const { client, calls } = clientWith(200, HEALTH);
    const health = await client.health();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.method).toBe('GET');
    expect(new URL(calls[0]?.url ?? '').pathname).toBe('/user/ada/ide/api/health');
    expect(health.version).toBe('0.1.0');
    expect(health.subsystems.sandbox).toEqual(HEALTH.subsystems.sandbox);
  });

  it('throws the server error, whose message people can read', async () => {
    const { client } = clientWith(403, { message: 'Forbidden: no role', reason: null });
    const error = await client.health().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    expect(await errorMessage(error)).toBe('Forbidden: no role');
  });

  it('refuses an answer of the wrong shape', async () => {
    const { client } = clientWith(200, { version: '1' });
    await expect(client.health()).rejects.toThrow('no subsystems');
  });
});

describe('parseHealth', () => {
  it('maps unknown states to broken and fills missing details', () => {
    const health = parseHealth({ subsystems: { cache: { state: 'weird' }, ai: { state: 'ok' } } });
    expect(health.subsystems.cache).toEqual({ state: 'broken', detail: '' });
    expect(health.subsystems.ai?.state).toBe('ok');
    expect(health.version).toBe('');
  });

  it('refuses things that are not objects', () => {
    expect(() => parseHealth(null)).toThrow();
    expect(() => parseHealth('ok')).toThrow();
    expect(parseHealth({ subsystems: { x: null } }).subsystems.x?.state).toBe('broken');
  });
});

describe('errorMessage', () => {
  it('reads the message of a 4xx JSON answer', async () => {
    const response = new Response(JSON.stringify({ message: 'File too large', reason: null }), {
      status: 413,
    });
    expect(await errorMessage(new ServerConnection.ResponseError(response))).toBe('File too large');
  });

  it('falls back to the status when the body is not JSON', async () => {
    const response = new Response('<html>oops</html>', { status: 502, statusText: 'Bad Gateway' });
    const message = await errorMessage(new ServerConnection.ResponseError(response));
    expect(message).toContain('502');
  });

  it('reads plain errors and anything else', async () => {
    expect(await errorMessage(new Error('boom'))).toBe('boom');
    expect(await errorMessage('text')).toBe('text');
  });
});
