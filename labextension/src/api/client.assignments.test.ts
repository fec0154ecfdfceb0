import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';
import { IdeClient, refusal } from './client';

/** A student's view of an assignment, as the server's student_view writes it. */
const HW1 = {
  course: 'cs101',
  name: 'hw1',
  title: 'hw1',
  language: 'python',
  folder: 'assignments/cs101/hw1',
  files: ['README.md', 'hw1.ipynb'],
  version: 2,
  late_penalty_percent: 10,
  cutoff_hours: null,
  max_submissions: 2,
  window_seconds: 3600,
  released_at: '2026-11-28T10:00:00+00:00',
  feedback_published: false,
  due_at: '2026-12-01T10:00:00+00:00',
  extended: true,
  tests: [{ name: 'add works', points: 2, visibility: 'visible' }],
  fetched_version: 1,
  notice: { kept: ['hw1.ipynb'], message: 'These files were changed by you and kept.' },
};

/** A student's graded submission, as the server's _student view writes it. */
const GRADED = {
  id: 7,
  student: 'sam',
  created_at: '2026-11-28T11:00:00+00:00',
  files: ['README.md', 'hw1.ipynb'],
  status: 'graded',
  error: null,
  results: [
    {
      name: 'add works',
      score: 0,
      max_score: 2,
      status: 'failed',
      output: 'AssertionError',
      visibility: 'visible',
    },
  ],
  visible_score: 0,
  visible_max_score: 2,
  late_days: 0,
  penalty_percent: 0,
  feedback: null,
};

function clientAnswering(answer: (request: Request) => Response) {
  const requests: Request[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/user/sam/',
    fetch: async (input: RequestInfo, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(input, init);
      requests.push(request.clone());
      return answer(request);
    },
  });
  return { client: new IdeClient(settings), requests };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

const BASE = '/user/sam/ide/api/courses/cs101/assignments';

describe('IdeClient assignments', () => {
  it('lists a course’s assignments with the student’s deadline and notice', async () => {
    const { client, requests } = clientAnswering(() => json(200, { assignments: [HW1] }));
    const [hw1] = await client.assignments('cs101');
    expect(requests[0]?.method).toBe('GET');
    expect(new URL(requests[0]?.url ?? '').pathname).toBe(BASE);
    expect(hw1).toMatchObject({
      name: 'hw1',
      folder: 'assignments/cs101/hw1',
      dueAt: '2026-12-01T10:00:00+00:00',
      extended: true,
      version: 2,
      fetchedVersion: 1,
      cutoffHours: null,
      maxSubmissions: 2,
      notice: { kept: ['hw1.ipynb'] },
    });
    expect(hw1?.tests).toEqual([{ name: 'add works', points: 2, visibility: 'visible' }]);
  });

  it('escapes course and assignment names in the path', async () => {
    const { client, requests } = clientAnswering(() => json(200, HW1));
    await client.assignment('cs 101', 'hw/1');
    expect(new URL(requests[0]?.url ?? '').pathname).toBe(
      '/user/sam/ide/api/courses/cs%20101/assignments/hw%2F1',
    );
  });

  it('fetches a copy with a POST and reads what was written and kept', async () => {
    const { client, requests } = clientAnswering(() =>
      json(200, {
        folder: 'assignments/cs101/hw1',
        version: 2,
        written: ['README.md'],
        kept: { 'hw1.ipynb': 2 },
      }),
    );
    const got = await client.fetchAssignment('cs101', 'hw1');
    expect(requests[0]?.method).toBe('POST');
    expect(new URL(requests[0]?.url ?? '').pathname).toBe(`${BASE}/hw1/fetch`);
    expect(got).toEqual({
      folder: 'assignments/cs101/hw1',
      version: 2,
      written: ['README.md'],
      kept: { 'hw1.ipynb': 2 },
    });
  });

  it('submits, lists, reads and reopens own submissions', async () => {
    const { client, requests } = clientAnswering((request) => {
      const path = new URL(request.url).pathname;
      if (path.endsWith('/reopen')) {
        return json(200, {
          folder: 'assignments/cs101/hw1',
          restored: ['hw1.ipynb'],
          submission: 7,
        });
      }
      if (path.endsWith('/submissions') && request.method === 'GET') {
        return json(200, { submissions: [GRADED] });
      }
      return json(request.method === 'POST' ? 201 : 200, GRADED);
    });
    const made = await client.submitAssignment('cs101', 'hw1');
    expect(made.id).toBe(7);
    const [listed] = await client.assignmentSubmissions('cs101', 'hw1');
    expect(listed?.results).toEqual([
      {
        name: 'add works',
        score: 0,
        maxScore: 2,
        status: 'failed',
        output: 'AssertionError',
        visibility: 'visible',
      },
    ]);
    const one = await client.assignmentSubmission('cs101', 'hw1', 7);
    expect(one).toMatchObject({ visibleScore: 0, visibleMaxScore: 2, feedback: null });
    const back = await client.reopenSubmission('cs101', 'hw1', 7);
    expect(back.restored).toEqual(['hw1.ipynb']);
    expect(requests.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      `POST ${BASE}/hw1/submissions`,
      `GET ${BASE}/hw1/submissions`,
      `GET ${BASE}/hw1/submissions/7`,
      `POST ${BASE}/hw1/submissions/7/reopen`,
    ]);
  });

  it('reads released feedback: score, manual points, line comments', async () => {
    const feedback = {
      score: 7,
      max_score: 9,
      manual: { style: 2 },
      comments: [{ path: 'hw1.ipynb', line: 3, text: 'Nice add.' }],
    };
    const { client } = clientAnswering(() => json(200, { ...GRADED, feedback }));
    const one = await client.assignmentSubmission('cs101', 'hw1', 7);
    expect(one.feedback).toEqual({
      score: 7,
      maxScore: 9,
      manual: { style: 2 },
      comments: [{ path: 'hw1.ipynb', line: 3, text: 'Nice add.' }],
    });
  });

  it('refuses answers of the wrong shape', async () => {
    await expect(
      clientAnswering(() => json(200, { assignments: [{ title: 'x' }] })).client.assignments('c'),
    ).rejects.toThrow('no name');
    await expect(
      clientAnswering(() => json(201, { status: 'queued' })).client.submitAssignment('c', 'a'),
    ).rejects.toThrow('no id');
  });
});

describe('IdeClient instructor calls', () => {
  it('releases and reads who got the files and who did not', async () => {
    const { client, requests } = clientAnswering(() =>
      json(200, {
        version: 2,
        students: { sam: { written: [], kept: { 'hw1.ipynb': 2 } }, ada: { error: 'Quota full' } },
      }),
    );
    expect(await client.releaseAssignment('cs101', 'hw1')).toEqual({
      version: 2,
      given: ['sam'],
      failed: [{ student: 'ada', error: 'Quota full' }],
    });
    expect(`${requests[0]?.method} ${new URL(requests[0]?.url ?? '').pathname}`).toBe(
      `POST ${BASE}/hw1/release`,
    );
  });

  it('publishes feedback with a PUT and reads the gradebook and its CSV', async () => {
    const { client, requests } = clientAnswering((request) => {
      const url = new URL(request.url);
      if (url.searchParams.get('format') === 'csv') {
        return new Response('student,hw1,total\nsam,7,7\n', { status: 200 });
      }
      if (url.pathname.endsWith('/gradebook')) {
        return json(200, {
          assignments: ['hw1'],
          max_scores: { hw1: 9 },
          students: [
            { student: 'sam', scores: { hw1: 7 } },
            { student: 'ada', scores: { hw1: null } },
          ],
        });
      }
      return json(200, { name: 'hw1', feedback_published_at: null });
    });
    await client.publishFeedback('cs101', 'hw1', false);
    expect(requests[0]?.method).toBe('PUT');
    expect(await requests[0]?.json()).toEqual({ published: false });
    const book = await client.gradebook('cs101');
    expect(book).toEqual({
      assignments: ['hw1'],
      maxScores: { hw1: 9 },
      students: [
        { student: 'sam', scores: { hw1: 7 } },
        { student: 'ada', scores: { hw1: null } },
      ],
    });
    expect(await client.gradebookCsv('cs101')).toBe('student,hw1,total\nsam,7,7\n');
    expect(new URL(requests[1]?.url ?? '').pathname).toBe(`${BASE}/gradebook`);
  });
});

describe('refusal', () => {
  async function refused(status: number, message: string, headers: Record<string, string> = {}) {
    const { client } = clientAnswering(() => json(status, { message, reason: null }, headers));
    return refusal(await client.submitAssignment('cs101', 'hw1').catch((e: unknown) => e));
  }

  it('reads a 429 with its Retry-After', async () => {
    expect(
      await refused(429, 'You may submit hw1 2 times per 3600 s; try again in 3599 s', {
        'Retry-After': '3599',
      }),
    ).toEqual({
      status: 429,
      message: 'You may submit hw1 2 times per 3600 s; try again in 3599 s',
      retryAfter: 3599,
    });
  });

  it('reads a 403 past the cut-off and a 409 without a copy', async () => {
    const closed = await refused(403, 'hw1 closed: the cut-off after your deadline has passed');
    expect(closed).toMatchObject({ status: 403, retryAfter: null });
    expect(closed.message).toContain('cut-off');
    const nocopy = await refused(409, 'Fetch hw1 first: you have no copy of it yet');
    expect(nocopy).toMatchObject({
      status: 409,
      message: 'Fetch hw1 first: you have no copy of it yet',
    });
  });

  it('ignores a Retry-After that is not a number of seconds', async () => {
    expect((await refused(429, 'slow down', { 'Retry-After': 'soon' })).retryAfter).toBeNull();
  });

  it('reads errors that are not answers', async () => {
    expect(await refusal(new Error('offline'))).toEqual({
      status: null,
      message: 'offline',
      retryAfter: null,
    });
  });
});

describe('IdeClient edit, extension and merge calls', () => {
  it('escapes names and paths and sends the bodies the API takes', async () => {
    const { client, requests } = clientAnswering((request) => {
      const path = new URL(request.url).pathname;
      if (path.endsWith('/merge') && request.method === 'GET') {
        return json(200, { path: 'a b.py', theirs: 'x', new: 'y', base: null, version: 2 });
      }
      if (path.endsWith('/merge')) {
        return json(200, { path: 'a b.py', written: true, kept: [] });
      }
      if (path.includes('/extensions/')) {
        return request.method === 'PUT'
          ? json(200, { student: 'o neil', due_at: '2026-12-09T10:00:00+00:00', rescored: 2 })
          : json(200, { student: 'o neil', rescored: 0 });
      }
      return json(200, { name: 'hw1', version: 2 });
    });
    expect((await client.updateAssignment('cs101', 'hw1', { refresh: true })).version).toBe(2);
    expect(await client.setExtension('cs101', 'hw1', 'o neil', '2026-12-09T10:00:00Z')).toEqual({
      student: 'o neil',
      dueAt: '2026-12-09T10:00:00+00:00',
      rescored: 2,
    });
    await client.dropExtension('cs101', 'hw1', 'o neil');
    const versions = await client.mergeVersions('cs101', 'hw1', 'a b.py');
    expect([versions.base, versions.theirs, versions.next]).toEqual([null, 'x', 'y']);
    const settled = await client.settleMerge('cs101', 'hw1', {
      path: 'a b.py',
      choice: 'new',
      theirsHash: 'h',
    });
    expect(settled).toEqual({ path: 'a b.py', folder: '', written: true, kept: [] });
    const seen = requests.map((r) => {
      const url = new URL(r.url);
      const path = url.searchParams.get('path');
      return `${r.method} ${url.pathname.replace(BASE, '')}${path === null ? '' : ` ${path}`}`;
    });
    expect(seen).toEqual([
      'PATCH /hw1',
      'PUT /hw1/extensions/o%20neil',
      'DELETE /hw1/extensions/o%20neil',
      'GET /hw1/merge a b.py',
      'POST /hw1/merge',
    ]);
    expect(await requests[0]?.json()).toEqual({ refresh: true });
    expect(await requests[1]?.json()).toEqual({ due_at: '2026-12-09T10:00:00Z' });
    expect(await requests[4]?.json()).toEqual({ path: 'a b.py', choice: 'new', theirs_hash: 'h' });
  });
});
