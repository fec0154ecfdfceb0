import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';
import { IdeClient } from './client';

describe('IdeClient.timelineIfChanged', () => {
  it('sends the last ETag; a 304 is null, a changed timeline comes with its new ETag', async () => {
    const seen: (string | null)[] = [];
    let tag = '"one"';
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://127.0.0.1:8888/',
      fetch: async (input: RequestInfo, init?: RequestInit) => {
        const request = input instanceof Request ? input : new Request(input, init);
        const asked = request.headers.get('If-None-Match');
        seen.push(asked);
        if (asked === tag) {
          return new Response(null, { status: 304, headers: { ETag: tag } });
        }
        const events = [{ kind: 'save', time: '2026-11-29T10:00:00+00:00', path: 'a.py' }];
        const body = JSON.stringify({ course: 'c1', student: 'ann', events });
        return new Response(body, { status: 200, headers: { ETag: tag } });
      },
    });
    const client = new IdeClient(settings);
    const first = await client.timelineIfChanged('c1', 'ann', null);
    expect(first?.etag).toBe('"one"');
    expect(first?.timeline.events.map((e) => e.kind)).toEqual(['save']);
    expect(await client.timelineIfChanged('c1', 'ann', '"one"')).toBeNull();
    tag = '"two"';
    const changed = await client.timelineIfChanged('c1', 'ann', '"one"');
    expect(changed?.etag).toBe('"two"');
    expect(seen).toEqual([null, '"one"', '"one"']);
  });
});
