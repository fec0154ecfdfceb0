import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it, vi } from 'vitest';
import { errorMessage, IdeClient, parseHealth } from './client';

function settingsWith(fetch: typeof globalThis.fetch): ServerConnection.ISettings {
  return ServerConnection.makeSettings({ baseUrl: 'http://127.0.0.1:8888/', fetch, token: '' });
}

describe('IdeClient', () => {
  it('reads health from /ide/api/health', async () => {
    const fetch = vi.fn(
      async () =>
        new Response(
          JSON.stringify({
            version: '0.1.0',
            subsystems: { sandbox: { state: 'off', detail: 'local' } },
          }),
          {
            status: 200,
          },
        ),
    );
    const client = new IdeClient(settingsWith(fetch as unknown as typeof globalThis.fetch));
    const health = await client.health();
    expect(health.subsystems.sandbox).toEqual({ state: 'off', detail: 'local' });
    const request = (fetch.mock.calls[0] as unknown as [Request])[0];
    expect(String(request.url ?? request)).toContain('/ide/api/health');
  });
  it('surfaces the server message of an error answer', async () => {
    const fetch = vi.fn(
      async () =>
        new Response(JSON.stringify({ message: 'Paths may not contain ..' }), { status: 400 }),
    );
    const client = new IdeClient(settingsWith(fetch as unknown as typeof globalThis.fetch));
    const error = await client.health().catch((e: unknown) => e);
    expect(await errorMessage(error)).toBe('Paths may not contain ..');
  });
});

describe('parseHealth', () => {
  it('treats unknown states as broken and refuses non-objects', () => {
    expect(parseHealth({ subsystems: { db: { state: 'weird' } } }).subsystems.db?.state).toBe(
      'broken',
    );
    expect(() => parseHealth(null)).toThrow();
    expect(() => parseHealth({})).toThrow();
  });
});
