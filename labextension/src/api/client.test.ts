import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';
import {
  COURSE_HEADER,
  errorCode,
  errorMessage,
  IdeClient,
  parseCourses,
  parseHealth,
  parseHistory,
  parsePolicy,
  parseUsage,
  parseVersionContent,
} from './client';

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

/** A client whose fetch answers with a function of the request. */
function clientAnswering(answer: (request: Request) => Response | Promise<Response>) {
  const requests: Request[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/',
    fetch: async (input: RequestInfo, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(input, init);
      requests.push(request.clone());
      return answer(request);
    },
  });
  return { client: new IdeClient(settings), requests };
}

function sse(events: string[]): Response {
  const body = events.map((e) => `data: ${e}\n\n`).join('');
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': 'text/event-stream',
      'X-IDE-Quota-Warning': 'user tokens per day: 85% used (170 of 200)',
      'X-IDE-AI-Mode': 'hint',
    },
  });
}

describe('IdeClient AI calls', () => {
  it('streams a chat completion and reads the quota warning', async () => {
    const delta = (content: string) => JSON.stringify({ choices: [{ delta: { content } }] });
    const { client, requests } = clientAnswering(() =>
      sse([delta('Hello'), delta(' there'), '[DONE]']),
    );
    const stream = await client.chatStream({
      model: 'echo',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const texts: string[] = [];
    for await (const event of stream.events) {
      if (event.type === 'delta') {
        texts.push(event.text);
      }
    }
    expect(texts.join('')).toBe('Hello there');
    expect(stream.warning).toContain('85% used');
    expect(stream.mode).toBe('hint');
    const sent = (await requests[0]?.json()) as Record<string, unknown>;
    expect(new URL(requests[0]?.url ?? '').pathname).toBe('/ide/api/ai/v1/chat/completions');
    expect(sent).toMatchObject({
      model: 'echo',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("gives the server's message for a 429", async () => {
    const { client } = clientAnswering(
      () =>
        new Response(
          JSON.stringify({
            message: 'Limit reached: user tokens per day; resets at 2026-11-26T00:00:00+00:00',
            limit: 'user_tokens_per_day',
          }),
          { status: 429 },
        ),
    );
    const error = await client.chatStream({ model: 'echo', messages: [] }).catch((e: unknown) => e);
    expect(await errorMessage(error)).toContain('user tokens per day');
  });

  it('answers null for a policy or usage endpoint that does not exist', async () => {
    const { client } = clientAnswering(() => new Response('{}', { status: 404 }));
    expect(await client.aiPolicy()).toBeNull();
    expect(await client.aiUsage()).toBeNull();
  });

  it('throws other failures of the policy endpoint', async () => {
    const { client } = clientAnswering(() => new Response('{"message":"x"}', { status: 500 }));
    await expect(client.aiPolicy()).rejects.toBeInstanceOf(ServerConnection.ResponseError);
  });

  it('reads the models, and the text of a whole completion', async () => {
    const { client } = clientAnswering((request) =>
      new URL(request.url).pathname.endsWith('/models')
        ? Response.json({ object: 'list', data: [{ id: 'gpt-4o-mini' }, { id: 'echo' }, 7] })
        : Response.json({ choices: [{ message: { role: 'assistant', content: 'x = 1' } }] }),
    );
    expect(await client.models()).toEqual(['gpt-4o-mini', 'echo']);
    expect(await client.complete({ model: 'echo', messages: [] })).toBe('x = 1');
  });
});

describe('parsePolicy and parseUsage', () => {
  it('read the documented shapes', () => {
    expect(
      parsePolicy({
        course: 'cs101',
        courses: ['cs101'],
        mode: 'hint',
        until: '2026-11-25T14:00:00+00:00',
        reason: 'Exam: Midterm (cs101)',
        next_window: null,
        models: ['gpt-4o-mini'],
        store_prompts: false,
      }),
    ).toEqual({
      course: 'cs101',
      courses: ['cs101'],
      mode: 'hint',
      until: '2026-11-25T14:00:00+00:00',
      reason: 'Exam: Midterm (cs101)',
      models: ['gpt-4o-mini'],
      strictestOf: [],
    });
    expect(
      parsePolicy({
        course: null,
        courses: ['a', 'b'],
        mode: 'hint',
        strictest_of: ['a', 'b'],
      }).strictestOf,
    ).toEqual(['a', 'b']);
    const usage = parseUsage({
      totals: { requests: 3, total_tokens: 420 },
      quota: {
        limits: [
          {
            name: 'user_tokens_per_day',
            scope: 'user',
            used: 170000,
            limit: 200000,
            ratio: 0.85,
            resets_at: '2026-11-26T00:00:00+00:00',
          },
        ],
        warning: 'user tokens per day: 85% used',
      },
    });
    expect(usage).toEqual({
      totalTokens: 420,
      requests: 3,
      warning: 'user tokens per day: 85% used',
      limits: [
        {
          name: 'user_tokens_per_day',
          used: 170000,
          limit: 200000,
          ratio: 0.85,
          resetsAt: '2026-11-26T00:00:00+00:00',
        },
      ],
    });
  });

  it('tolerate missing parts and refuse non-objects', () => {
    expect(parsePolicy({ mode: 'weird' }).mode).toBe('off');
    expect(parseUsage({})).toEqual({ totalTokens: 0, requests: 0, limits: [], warning: null });
    expect(() => parsePolicy([])).toThrow();
    expect(() => parseUsage(null)).toThrow();
  });
});

describe('IdeClient history calls', () => {
  const VERSION = {
    id: 42,
    path: 'src/main.py',
    hash: 'ab'.repeat(32),
    size: 120,
    modified_at: '2026-11-25T06:30:00.123456Z',
    created_at: '2026-11-25T06:31:00.000000Z',
    reason: 'save',
  };

  it('lists, reads and restores versions at the documented URLs', async () => {
    const { client, requests } = clientAnswering((request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith('/restore')) {
        return Response.json({ path: 'src/main.py', type: 'file' });
      }
      if (url.pathname.endsWith('/history/42')) {
        return Response.json({ ...VERSION, format: 'text', content: 'print(1)\n' });
      }
      return Response.json({
        path: 'src/main.py',
        current: { hash: 'cd'.repeat(32), size: 130, last_modified: '2026-11-25T06:40:00Z' },
        versions: [VERSION],
      });
    });
    const history = await client.history('src/main.py');
    expect(history.current?.size).toBe(130);
    expect(history.versions).toEqual([
      {
        id: 42,
        path: 'src/main.py',
        hash: 'ab'.repeat(32),
        size: 120,
        modifiedAt: '2026-11-25T06:30:00.123456Z',
        createdAt: '2026-11-25T06:31:00.000000Z',
        reason: 'save',
      },
    ]);
    const version = await client.historyVersion(42);
    expect(version).toMatchObject({ id: 42, format: 'text', content: 'print(1)\n' });
    await client.restoreVersion(42);
    const urls = requests.map(
      (r) => `${r.method} ${new URL(r.url).pathname}${new URL(r.url).search}`,
    );
    expect(urls[0]).toMatch(/^GET \/ide\/api\/history\?path=src%2Fmain\.py/);
    expect(urls[1]).toMatch(/^GET \/ide\/api\/history\/42/);
    expect(urls[2]).toMatch(/^POST \/ide\/api\/history\/42\/restore/);
  });

  it('reads a deleted file and binary versions', () => {
    expect(parseHistory({ path: 'x', current: null, versions: [] })).toEqual({
      path: 'x',
      current: null,
      versions: [],
    });
    expect(parseVersionContent({ ...VERSION, format: 'base64', content: 'AAE=' }).format).toBe(
      'base64',
    );
    expect(() => parseHistory({ versions: [{ path: 'no id' }] })).toThrow('no id');
  });
});

describe('IdeClient judge calls', () => {
  it('submits base64-encoded source and stdin, and reads the token', async () => {
    const { client, requests } = clientAnswering(() =>
      Response.json({ token: 'tok-1' }, { status: 201 }),
    );
    expect(await client.submit({ source: 'print("é")', languageId: 71, stdin: '1\n' })).toBe(
      'tok-1',
    );
    const url = new URL(requests[0]?.url ?? '');
    expect(url.pathname).toBe('/ide/api/judge/submissions');
    expect(url.searchParams.get('base64_encoded')).toBe('true');
    const body = (await requests[0]?.json()) as Record<string, string>;
    expect(
      new TextDecoder().decode(
        Uint8Array.from(atob(body.source_code ?? ''), (c) => c.charCodeAt(0)),
      ),
    ).toBe('print("é")');
    expect(atob(body.stdin ?? '')).toBe('1\n');
    expect(body).not.toHaveProperty('expected_output');
  });

  it("says why the judge refused a program, in the judge's own words", async () => {
    const { client } = clientAnswering(() =>
      Response.json(
        {
          language_id: ["language with id 999 doesn't exist"],
          message: "language_id language with id 999 doesn't exist",
        },
        { status: 422 },
      ),
    );
    const error = await client.submit({ source: 'x', languageId: 999 }).catch((e: unknown) => e);
    expect(await errorMessage(error)).toContain("language with id 999 doesn't exist");
  });

  it('submits a batch with expected outputs and reads tokens and refusals', async () => {
    const { client, requests } = clientAnswering(() =>
      Response.json([{ token: 'a' }, { stdin: ['is not valid base64'] }], { status: 201 }),
    );
    const answers = await client.submitBatch([
      { source: 's', languageId: 50, stdin: '1', expectedOutput: '2\n' },
      { source: 's', languageId: 50, stdin: '2' },
    ]);
    expect(answers).toEqual([{ token: 'a' }, { error: 'stdin is not valid base64' }]);
    expect(new URL(requests[0]?.url ?? '').pathname).toBe('/ide/api/judge/submissions/batch');
    const body = (await requests[0]?.json()) as { submissions: Record<string, string>[] };
    expect(atob(body.submissions[0]?.expected_output ?? '')).toBe('2\n');
  });

  it('reads submissions by token, an unknown one as an internal error', async () => {
    const { client, requests } = clientAnswering(() =>
      Response.json({
        submissions: [
          {
            token: 'a',
            status: { id: 3, description: 'Accepted' },
            stdout: btoa('3\n'),
            time: '0.01',
            memory: 900,
          },
          null,
        ],
      }),
    );
    const [first, second] = await client.submissions(['a', 'b']);
    expect(first).toMatchObject({ token: 'a', stdout: '3\n', time: '0.01', memory: 900 });
    expect(second).toMatchObject({ token: 'b', status: { id: 13 } });
    const url = new URL(requests[0]?.url ?? '');
    expect(url.searchParams.get('tokens')).toBe('a,b');
    expect(url.searchParams.get('fields')).toContain('compile_output');
  });
});

/** Answers for every call the client makes, by path. */
async function answerFor(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path.endsWith('/chat/completions')) {
    const body = (await request.json()) as { stream?: boolean };
    return body.stream
      ? new Response('data: [DONE]\n\n', { headers: { 'Content-Type': 'text/event-stream' } })
      : Response.json({ choices: [{ message: { content: '' } }] });
  }
  if (path.endsWith('/models')) {
    return Response.json({ data: [{ id: 'echo' }] });
  }
  if (path.endsWith('/ai/policy')) {
    return Response.json({ mode: 'full' });
  }
  if (path.endsWith('/ai/usage')) {
    return Response.json({});
  }
  if (path.endsWith('/submissions/batch') && request.method === 'POST') {
    return Response.json([{ token: 'b' }], { status: 201 });
  }
  if (path.endsWith('/submissions/batch')) {
    return Response.json({ submissions: [] });
  }
  if (path.endsWith('/submissions')) {
    return Response.json({ token: 't' }, { status: 201 });
  }
  if (path.endsWith('/courses')) {
    return Response.json({ courses: [] });
  }
  if (path.endsWith('/health')) {
    return Response.json(HEALTH);
  }
  return Response.json({ path: 'x', current: null, versions: [] });
}

/** Make every call of the client once. */
async function everyCall(client: IdeClient): Promise<void> {
  await client.models();
  await client.aiPolicy();
  await client.aiUsage();
  const stream = await client.chatStream({ model: 'echo', messages: [] });
  for await (const event of stream.events) {
    void event;
  }
  await client.complete({ model: 'echo', messages: [] });
  await client.submit({ source: 'x', languageId: 71 });
  await client.submitBatch([{ source: 'x', languageId: 71 }]);
  await client.submissions([]);
  await client.courses();
  await client.health();
  await client.history('x');
}

describe('IdeClient course header', () => {
  const COUNTED = [
    'GET /ide/api/ai/v1/models',
    'GET /ide/api/ai/policy',
    'GET /ide/api/ai/usage',
    'POST /ide/api/ai/v1/chat/completions',
    'POST /ide/api/ai/v1/chat/completions',
    'POST /ide/api/judge/submissions',
    'POST /ide/api/judge/submissions/batch',
  ];

  const named = (requests: Request[]) =>
    requests
      .filter((r) => r.headers.has(COURSE_HEADER))
      .map((r) => `${r.method} ${new URL(r.url).pathname}`);

  it('names the chosen course on AI calls and judge submissions, and nowhere else', async () => {
    const { client, requests } = clientAnswering(answerFor);
    client.setCourse('cs-full');
    expect(client.course).toBe('cs-full');
    await everyCall(client);
    expect(named(requests)).toEqual(COUNTED);
    expect(
      requests.filter((r) => r.headers.has(COURSE_HEADER)).map((r) => r.headers.get(COURSE_HEADER)),
    ).toEqual(COUNTED.map(() => 'cs-full'));
    // The calls the server does not count per course go without it.
    expect(requests.length).toBeGreaterThan(COUNTED.length + 3);
    // Usage is read for the course too (the ledger's readers filter by ?course=).
    const usage = requests.find((r) => new URL(r.url).pathname.endsWith('/ai/usage'));
    expect(new URL(usage?.url ?? '').searchParams.get('course')).toBe('cs-full');
  });

  it('names no course until one is chosen, and none again after it is cleared', async () => {
    const { client, requests } = clientAnswering(answerFor);
    await everyCall(client);
    expect(named(requests)).toEqual([]);
    expect(requests.every((r) => !new URL(r.url).searchParams.has('course'))).toBe(true);
    client.setCourse('cs-hint');
    await client.aiPolicy();
    client.setCourse(null);
    await client.aiPolicy();
    expect(requests.slice(-2).map((r) => r.headers.get(COURSE_HEADER))).toEqual(['cs-hint', null]);
  });

  it('keeps the JSON content type beside the header on POSTs', async () => {
    const { client, requests } = clientAnswering(answerFor);
    client.setCourse('cs-full');
    await client.submit({ source: 'x', languageId: 71 });
    expect(requests[0]?.headers.get('Content-Type')).toBe('application/json');
  });
});

describe('courses, me and error codes', () => {
  it("reads the caller's courses and who they are", async () => {
    const { client, requests } = clientAnswering((request) =>
      new URL(request.url).pathname.endsWith('/me')
        ? Response.json({ name: 'sam', role: 'student', permissions: [] })
        : Response.json({
            courses: [
              { name: 'cs-full', title: 'Full', members: 3, my_role: 'student' },
              { name: 'art', title: 'Art', members: 1, my_role: null },
              { title: 'no name' },
            ],
          }),
    );
    expect(await client.courses()).toEqual([
      { name: 'cs-full', title: 'Full', myRole: 'student' },
      { name: 'art', title: 'Art', myRole: null },
    ]);
    expect(await client.me()).toEqual({ name: 'sam', role: 'student' });
    expect(requests.map((r) => new URL(r.url).pathname)).toEqual([
      '/ide/api/courses',
      '/ide/api/auth/me',
    ]);
  });

  it('answers no courses where the server has no course API', async () => {
    const { client } = clientAnswering(() => new Response('{}', { status: 404 }));
    expect(await client.courses()).toEqual([]);
    expect(() => parseCourses([])).toThrow();
  });

  it("reads the code of the server's refusal", async () => {
    const { client } = clientAnswering(() =>
      Response.json(
        {
          message: 'AI is in hint-only mode: message 2 is an assistant reply …',
          error: { message: '…', type: 'permission_error', code: 'assistant_turn_not_served' },
        },
        { status: 403 },
      ),
    );
    const error = await client.chatStream({ model: 'echo', messages: [] }).catch((e: unknown) => e);
    expect(await errorCode(error)).toBe('assistant_turn_not_served');
    expect(await errorMessage(error)).toContain('hint-only mode');
    expect(await errorCode(new Error('x'))).toBeNull();
    const plain = new ServerConnection.ResponseError(new Response('oops', { status: 500 }));
    expect(await errorCode(plain)).toBeNull();
  });
});
