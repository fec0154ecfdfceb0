import { ServerConnection } from '@jupyterlab/services';
import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { IdeClient } from '../api/client';
import { render, type Rendered } from '../testing/render';
import AssignmentsPanel, { explainRefusal } from './AssignmentsPanel';

const FUTURE = new Date(Date.now() + 2 * 86_400_000).toISOString();

function assignment(extra: Record<string, unknown> = {}) {
  return {
    course: 'cs101',
    name: 'hw1',
    title: 'Homework 1',
    language: 'python',
    folder: 'assignments/cs101/hw1',
    files: ['hw1.ipynb'],
    version: 1,
    late_penalty_percent: 10,
    cutoff_hours: null,
    max_submissions: 2,
    window_seconds: 3600,
    released_at: '2026-11-28T10:00:00+00:00',
    feedback_published: false,
    due_at: FUTURE,
    extended: false,
    tests: [{ name: 'add works', points: 2, visibility: 'visible' }],
    fetched_version: null,
    notice: null,
    ...extra,
  };
}

function submission(id: number, status: string, results: unknown[] = []) {
  return {
    id,
    student: 'sam',
    created_at: '2026-11-28T11:00:00+00:00',
    files: ['hw1.ipynb'],
    status,
    error: null,
    results,
    visible_score: results.reduce((n: number, r) => n + (r as { score: number }).score, 0),
    visible_max_score: results.reduce(
      (n: number, r) => n + (r as { max_score: number }).max_score,
      0,
    ),
    late_days: 0,
    penalty_percent: 0,
    feedback: null,
  };
}

const FAILED = {
  name: 'add works',
  score: 0,
  max_score: 2,
  status: 'failed',
  output: 'AssertionError: add(1, 2) != 3',
  visibility: 'visible',
};

type Route = (request: Request) => Response | undefined;

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** A real IdeClient over a fetch that answers from ``route`` (404 when it has no answer). */
function serverWith(route: Route) {
  const calls: string[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/',
    fetch: async (input: RequestInfo, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const path = new URL(request.url).pathname.replace('/ide/api/courses/cs101/assignments', '');
      calls.push(`${request.method} ${path}`);
      return route(request) ?? json(404, { message: 'not here' });
    },
  });
  return { client: new IdeClient(settings), calls };
}

function route(request: Request): string {
  return `${request.method} ${new URL(request.url).pathname.replace('/ide/api/courses/cs101/assignments', '')}`;
}

async function settle(ms = 50) {
  await act(async () => {
    await new Promise((r) => setTimeout(r, ms));
  });
}

async function click(view: Rendered, selector: string) {
  const button = view.container.querySelector<HTMLButtonElement>(selector);
  expect(button, selector).not.toBeNull();
  await act(async () => {
    button?.click();
  });
  await settle();
}

function panel(client: IdeClient, extra: Partial<Parameters<typeof AssignmentsPanel>[0]> = {}) {
  return (
    <AssignmentsPanel
      client={client}
      course="cs101"
      courseCount={1}
      visible
      onFilesChanged={() => undefined}
      notify={() => undefined}
      {...extra}
    />
  );
}

describe('AssignmentsPanel', () => {
  it('says why nothing is listed without a course', async () => {
    const { client, calls } = serverWith(() => undefined);
    const many = await render(panel(client, { course: null, courseCount: 2 }));
    expect(many.byTestId('assignments-no-course')?.textContent).toContain('Choose a course');
    await many.unmount();
    const none = await render(panel(client, { course: null, courseCount: 0 }));
    expect(none.byTestId('assignments-no-course')?.textContent).toContain('not in a course');
    await none.unmount();
    expect(calls).toEqual([]);
  });

  it('lists assignments with the student’s deadline and state, and gets a copy', async () => {
    let fetched = false;
    const { client, calls } = serverWith((request) => {
      switch (route(request)) {
        case 'GET ':
          return json(200, {
            assignments: [assignment({ fetched_version: fetched ? 1 : null, extended: true })],
          });
        case 'POST /hw1/fetch':
          fetched = true;
          return json(200, {
            folder: 'assignments/cs101/hw1',
            version: 1,
            written: ['hw1.ipynb'],
            kept: {},
          });
      }
      return undefined;
    });
    const onFilesChanged = vi.fn();
    const notify = vi.fn();
    const view = await render(panel(client, { onFilesChanged, notify }));
    await settle();
    const card = view.byTestId('assignment-hw1');
    expect(card?.textContent).toContain('Homework 1');
    expect(view.byTestId('assignment-state')?.textContent).toBe('Not fetched yet');
    expect(view.byTestId('assignment-due')?.textContent).toContain('(your extension)');
    await click(view, '[data-testid="assignment-get"]');
    expect(onFilesChanged).toHaveBeenCalledWith(['assignments/cs101/hw1/hw1.ipynb']);
    expect(notify).toHaveBeenCalledWith('info', 'hw1 is in assignments/cs101/hw1');
    expect(view.byTestId('assignment-state')?.textContent).toBe('Open');
    expect(view.byTestId('assignment-get')).toBeNull();
    expect(calls).toEqual(['GET ', 'POST /hw1/fetch', 'GET ']);
    await view.unmount();
  });

  it('submits, shows the pending submission, then its visible results when graded', async () => {
    let rounds = 0;
    const { client } = serverWith((request) => {
      switch (route(request)) {
        case 'GET ':
          return json(200, { assignments: [assignment({ fetched_version: 1 })] });
        case 'POST /hw1/submissions':
          return json(201, submission(7, 'queued'));
        case 'GET /hw1/submissions':
          rounds += 1;
          return json(200, {
            submissions: [
              rounds < 2 ? submission(7, 'grading') : submission(7, 'graded', [FAILED]),
            ],
          });
      }
      return undefined;
    });
    const view = await render(panel(client));
    await settle();
    await click(view, '[data-testid="assignment-submit"]');
    expect(view.byTestId('submission-7')).not.toBeNull();
    expect(view.byTestId('submission-pending')).not.toBeNull();
    await settle(3400); // two polls
    expect(view.byTestId('submission-pending')).toBeNull();
    expect(view.byTestId('submission-score')?.textContent).toContain('Visible tests: 0 / 2');
    const tests = view.container.querySelectorAll('[data-testid="submission-test"]');
    expect(tests).toHaveLength(1);
    expect(tests[0]?.textContent).toContain('add works');
    expect(tests[0]?.textContent).toContain('failed');
    expect(tests[0]?.textContent).toContain('AssertionError: add(1, 2) != 3');
    await view.unmount();
  });

  it('shows released feedback and the re-release notice', async () => {
    const notice = { kept: ['hw1.ipynb'], message: 'These files were changed by you and kept.' };
    const feedback = {
      score: 7,
      max_score: 9,
      manual: { style: 2 },
      comments: [{ path: 'hw1.ipynb', line: 3, text: 'Nice add.' }],
    };
    const { client } = serverWith((request) => {
      switch (route(request)) {
        case 'GET ':
          return json(200, {
            assignments: [assignment({ fetched_version: 1, version: 2, notice })],
          });
        case 'GET /hw1/submissions':
          return json(200, {
            submissions: [
              { ...submission(7, 'graded', [{ ...FAILED, score: 2, status: 'passed' }]), feedback },
            ],
          });
      }
      return undefined;
    });
    const view = await render(panel(client));
    await settle();
    expect(view.byTestId('assignment-state')?.textContent).toBe('New version released');
    expect(view.byTestId('assignment-get')?.textContent).toBe('Get the new version');
    expect(view.byTestId('assignment-notice')?.textContent).toContain('yours were kept');
    expect(view.byTestId('assignment-merge-hw1.ipynb')?.textContent).toBe('hw1.ipynb');
    await click(view, '[data-testid="assignment-toggle"]');
    const shown = view.byTestId('submission-feedback')?.textContent ?? '';
    expect(shown).toContain('Grade: 7 / 9');
    expect(shown).toContain('style: 2');
    expect(shown).toContain('hw1.ipynb:3 Nice add.');
    await view.unmount();
  });

  it('shows the API’s refusals: 429 with Retry-After, 403 past the cut-off, 409 without a copy', async () => {
    const answers = [
      json(
        429,
        { message: 'You may submit hw1 2 times per 3600 s; try again in 120 s' },
        { 'Retry-After': '120' },
      ),
      json(403, { message: 'hw1 closed: the cut-off after your deadline has passed' }),
      json(409, { message: 'Fetch hw1 first: you have no copy of it yet' }),
    ];
    const { client } = serverWith((request) => {
      switch (route(request)) {
        case 'GET ':
          return json(200, { assignments: [assignment({ fetched_version: 1 })] });
        case 'POST /hw1/submissions':
          return answers.shift();
      }
      return undefined;
    });
    const view = await render(panel(client));
    await settle();
    await click(view, '[data-testid="assignment-submit"]');
    const error = () => view.byTestId('assignment-error')?.textContent ?? '';
    expect(error()).toContain('try again in 120 s');
    expect(error()).toContain('you can submit again in 120 s');
    await click(view, '[data-testid="assignment-submit"]');
    expect(error()).toBe('hw1 closed: the cut-off after your deadline has passed');
    await click(view, '[data-testid="assignment-submit"]');
    expect(error()).toContain('Fetch hw1 first');
    expect(error()).toContain('Get copy');
    await view.unmount();
  });

  it('disables Submit once the cut-off has passed', async () => {
    const past = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const { client } = serverWith((request) =>
      route(request) === 'GET '
        ? json(200, {
            assignments: [assignment({ fetched_version: 1, due_at: past, cutoff_hours: 24 })],
          })
        : undefined,
    );
    const view = await render(panel(client));
    await settle();
    expect(view.byTestId('assignment-state')?.textContent).toBe('Closed');
    expect((view.byTestId('assignment-submit') as HTMLButtonElement).disabled).toBe(true);
    await view.unmount();
  });

  it('reopens a submission after asking, reports the restored files, shows a submitted file', async () => {
    const { client, calls } = serverWith((request) => {
      switch (route(request)) {
        case 'GET ':
          return json(200, { assignments: [assignment({ fetched_version: 1 })] });
        case 'GET /hw1/submissions':
          return json(200, { submissions: [submission(7, 'graded', [FAILED])] });
        case 'POST /hw1/submissions/7/reopen':
          return json(200, {
            folder: 'assignments/cs101/hw1',
            restored: ['hw1.ipynb'],
            submission: 7,
          });
        case 'GET /hw1/submissions/7/file':
          return new Response('{"cells": []}');
      }
      return undefined;
    });
    const onFilesChanged = vi.fn();
    const view = await render(panel(client, { onFilesChanged }));
    await settle();
    await click(view, '[data-testid="assignment-toggle"]');
    const confirm = vi
      .spyOn(window, 'confirm')
      .mockReturnValueOnce(false)
      .mockReturnValueOnce(true);
    await click(view, '[data-testid="submission-reopen"]');
    expect(calls).not.toContain('POST /hw1/submissions/7/reopen');
    await click(view, '[data-testid="submission-reopen"]');
    expect(calls).toContain('POST /hw1/submissions/7/reopen');
    expect(onFilesChanged).toHaveBeenCalledWith(['assignments/cs101/hw1/hw1.ipynb']);
    confirm.mockRestore();
    // The submitted file can be read as it was sent, and hidden again.
    await click(view, '[data-testid="submission-file-hw1.ipynb"]');
    expect(view.byTestId('submission-file')?.textContent).toBe('{"cells": []}');
    await click(view, '[data-testid="submission-file-hw1.ipynb"]');
    expect(view.byTestId('submission-file')).toBeNull();
    await view.unmount();
  });

  it('shows a list that cannot be loaded as an error', async () => {
    const { client } = serverWith(() => json(403, { message: 'You are not in cs101' }));
    const view = await render(panel(client));
    await settle();
    expect(view.byTestId('assignments-error')?.textContent).toBe('You are not in cs101');
    await view.unmount();
  });
});

describe('AssignmentsPanel for an instructor', () => {
  it('releases, toggles feedback and shows the gradebook', async () => {
    let released = false;
    let published = false;
    const bodies: unknown[] = [];
    const { client, calls } = serverWith((request) => {
      switch (route(request)) {
        case 'GET ':
          return json(200, {
            assignments: [
              assignment({
                released_at: released ? '2026-11-28T10:00:00+00:00' : null,
                feedback_published: published,
              }),
            ],
          });
        case 'GET /gradebook':
          return json(200, {
            course: 'cs101',
            assignments: ['hw1'],
            max_scores: { hw1: 9 },
            students: [
              { student: 'ada', scores: { hw1: null } },
              { student: 'sam', scores: { hw1: 7 } },
            ],
          });
        case 'POST /hw1/release':
          released = true;
          return json(200, {
            version: 1,
            students: { sam: { written: ['hw1.ipynb'] }, ada: { error: 'Quota exceeded' } },
          });
        case 'PUT /hw1/feedback':
          published = true;
          void request.json().then((b: unknown) => bodies.push(b));
          return json(200, { name: 'hw1', feedback_published_at: '2026-11-28T12:00:00+00:00' });
      }
      return undefined;
    });
    const notify = vi.fn();
    const view = await render(panel(client, { role: 'instructor', notify }));
    await settle();
    expect(view.byTestId('assignment-released')?.textContent).toBe('Not released');
    expect(view.byTestId('gradebook-sam')?.textContent).toBe('sam7');
    expect(view.byTestId('gradebook-ada')?.textContent).toBe('ada–');
    expect(view.byTestId('gradebook')?.textContent).toContain('hw1 / 9');
    await click(view, '[data-testid="assignment-release"]');
    expect(notify).toHaveBeenCalledWith(
      'error',
      'hw1 version 1 given to 1 student(s); not to ada (Quota exceeded)',
    );
    expect(view.byTestId('assignment-released')?.textContent).toContain('Released');
    expect(view.byTestId('assignment-feedback')?.textContent).toBe('Release feedback');
    await click(view, '[data-testid="assignment-feedback"]');
    expect(bodies).toEqual([{ published: true }]);
    expect(view.byTestId('assignment-feedback')?.textContent).toBe('Withdraw feedback');
    expect(calls.filter((c) => !c.startsWith('GET'))).toEqual([
      'POST /hw1/release',
      'PUT /hw1/feedback',
    ]);
    // A student's panel never asks for the gradebook.
    expect(view.byTestId('assignment-get')).toBeNull();
    await view.unmount();
  });

  it('shows a refused gradebook as an error', async () => {
    const { client } = serverWith((request) =>
      route(request) === 'GET '
        ? json(200, { assignments: [] })
        : json(403, { message: 'Only the course’s instructors may do this' }),
    );
    const view = await render(panel(client, { role: 'instructor' }));
    await settle();
    expect(view.byTestId('assignments-error')?.textContent).toContain('instructors');
    await view.unmount();
  });
});

/** Type into an input, textarea or select found by ``selector`` under ``root``. */
async function fill(root: ParentNode | null | undefined, selector: string, value: string) {
  const field = root?.querySelector<HTMLInputElement>(selector);
  expect(field, selector).not.toBeNull();
  await act(async () => {
    const proto = Object.getPrototypeOf(field) as object;
    Object.getOwnPropertyDescriptor(proto, 'value')?.set?.call(field, value);
    const kind = field instanceof HTMLSelectElement ? 'change' : 'input';
    field?.dispatchEvent(new Event(kind, { bubbles: true }));
  });
}

describe('NewAssignment', () => {
  it('creates an assignment from the form, and shows refusals from the form and the API', async () => {
    const bodies: unknown[] = [];
    let answer = 201;
    const { client } = serverWith((request) => {
      switch (route(request)) {
        case 'GET ':
          return json(200, { assignments: [] });
        case 'GET /gradebook':
          return json(200, { assignments: [], max_scores: {}, students: [] });
        case 'POST ':
          void request.json().then((b: unknown) => bodies.push(b));
          return answer === 201
            ? json(201, assignment({ name: 'hw2', released_at: null }))
            : json(409, { message: "cs101 already has an assignment 'hw2'" });
      }
      return undefined;
    });
    const notify = vi.fn();
    const view = await render(panel(client, { role: 'instructor', notify }));
    await settle();
    const form = view.byTestId('new-assignment');
    await click(view, '[data-testid="new-assignment-submit"]');
    expect(view.byTestId('new-assignment-error')?.textContent).toContain('name');
    await fill(form, '[data-testid="new-assignment-name"]', 'hw2');
    await fill(form, '[data-testid="new-assignment-title"]', 'Sums');
    await fill(form, '[data-testid="new-assignment-folder"]', 'hw2-src');
    await fill(form, '[data-testid="new-assignment-language"]', 'c');
    await fill(form, '[data-testid="new-assignment-maxSubmissions"]', '3');
    await click(view, '[data-testid="test-add-stdin"]');
    await click(view, '[data-testid="test-add-file"]');
    const stdin = view.byTestId('test-draft-0');
    await fill(stdin, '[data-testid="test-name"]', 'small');
    await click(view, '[data-testid="new-assignment-submit"]');
    expect(view.byTestId('new-assignment-error')?.textContent).toBe(
      'Test 1 (small): name the file that is run.',
    );
    await fill(stdin, '[data-testid="test-program"]', 'main.c');
    await fill(stdin, '[data-testid="test-stdin"]', '1 2\n');
    await fill(stdin, '[data-testid="test-expected"]', '3\n');
    await fill(stdin, '[data-testid="test-visibility"]', 'after_due_date');
    await fill(stdin, '[data-testid="test-cpu"]', '2');
    // The file test is removed again; a rubric item is added.
    await click(view, '[data-testid="test-draft-1"] [data-testid="test-remove"]');
    expect(view.byTestId('test-draft-1')).toBeNull();
    await click(view, '[data-testid="rubric-add"]');
    await fill(form, '[data-testid="rubric-name"]', 'style');
    await click(view, '[data-testid="new-assignment-submit"]');
    expect(bodies).toEqual([
      {
        name: 'hw2',
        folder: 'hw2-src',
        language: 'c',
        title: 'Sums',
        max_submissions: 3,
        window_seconds: 86_400,
        rubric: [{ name: 'style', points: 1 }],
        tests: [
          {
            kind: 'stdin',
            name: 'small',
            points: 1,
            visibility: 'after_due_date',
            program: 'main.c',
            stdin: '1 2\n',
            expected_output: '3\n',
            limits: { cpu_seconds: 2, memory_kb: 262144 },
          },
        ],
      },
    ]);
    expect(notify).toHaveBeenCalledWith('info', 'hw2 created from 1 file(s); not released yet');
    expect(view.byTestId('new-assignment-error')).toBeNull();
    // The form is empty again; a second create is refused by the API, said in the form.
    expect(view.byTestId('test-draft-0')).toBeNull();
    answer = 409;
    await fill(form, '[data-testid="new-assignment-name"]', 'hw2');
    await fill(form, '[data-testid="new-assignment-folder"]', 'hw2-src');
    await click(view, '[data-testid="new-assignment-submit"]');
    expect(view.byTestId('new-assignment-error')?.textContent).toBe(
      "cs101 already has an assignment 'hw2'",
    );
    await view.unmount();
  });
});

describe('EditAssignment', () => {
  it('saves changed settings, re-reads the folder for changed tests, grants and removes extensions', async () => {
    const patches: unknown[] = [];
    const puts: unknown[] = [];
    let extensions: Record<string, string> = { ada: '2026-12-05T10:00:00+00:00' };
    let version = 1;
    let patchCount = 0;
    const spec = {
      language: 'python',
      tests: [
        { kind: 'file', name: 'works', points: 2, visibility: 'visible', path: 't.py' },
        { kind: 'notebook', name: 'cell', points: 1, visibility: 'hidden' },
      ],
    };
    const full = () => assignment({ version, spec, extensions, source_folder: 'hw1', rubric: [] });
    const { client, calls } = serverWith((request) => {
      switch (route(request)) {
        case 'GET ':
          return json(200, { assignments: [full()] });
        case 'GET /gradebook':
          return json(200, { assignments: [], max_scores: {}, students: [] });
        case 'GET /hw1':
          return json(200, full());
        case 'PATCH /hw1':
          void request.json().then((b: unknown) => patches.push(b));
          version = ++patchCount; // the second (with tests) makes version 2
          return json(200, full());
        case 'PUT /hw1/extensions/sam':
          void request.json().then((b: unknown) => puts.push(b));
          extensions = { ...extensions, sam: '2026-12-09T10:00:00+00:00' };
          return json(200, { student: 'sam', due_at: extensions.sam, rescored: 1 });
        case 'PUT /hw1/extensions/eve':
          return json(404, { message: "'eve' is not a student of cs101" });
        case 'DELETE /hw1/extensions/ada':
          extensions = Object.fromEntries(Object.entries(extensions).filter(([k]) => k !== 'ada'));
          return json(200, { student: 'ada', rescored: 0 });
      }
      return undefined;
    });
    const notify = vi.fn();
    const view = await render(panel(client, { role: 'instructor', notify }));
    await settle();
    await click(view, '[data-testid="assignment-edit"]');
    const form = view.byTestId('edit-assignment');
    expect(view.byTestId('new-assignment-name')).not.toBeNull(); // the create form is apart
    expect(form?.querySelector('[data-testid="edit-assignment-name"]')).toBeNull();
    expect(form?.querySelector<HTMLInputElement>('[data-testid="test-path"]')?.value).toBe('t.py');
    expect(view.byTestId('extension-ada')?.textContent).toContain('ada: due');
    await fill(form, '[data-testid="edit-assignment-latePenaltyPercent"]', '25');
    await click(view, '[data-testid="edit-assignment-submit"]');
    expect(patches[0]).toMatchObject({ late_penalty_percent: 25, title: 'Homework 1' });
    expect(patches[0]).not.toHaveProperty('refresh');
    await fill(form, '[data-testid="test-points"]', '3');
    await click(view, '[data-testid="edit-assignment-submit"]');
    expect(patches[1]).toMatchObject({
      refresh: true,
      language: 'python',
      tests: [{ kind: 'file', name: 'works', points: 3, path: 't.py', visibility: 'visible' }],
    });
    expect(notify).toHaveBeenLastCalledWith(
      'info',
      'hw1 saved; version 2: release it again to give students the new files',
    );
    // Extensions: a refusal shown, a grant, a removal.
    await click(view, '[data-testid="extension-grant"]');
    expect(view.byTestId('extension-error')?.textContent).toBe(
      'Name the student and their new deadline.',
    );
    await fill(form, '[data-testid="extension-student"]', 'eve');
    await fill(form, '[data-testid="extension-due"]', '2026-12-09T11:00');
    await click(view, '[data-testid="extension-grant"]');
    expect(view.byTestId('extension-error')?.textContent).toBe("'eve' is not a student of cs101");
    await fill(form, '[data-testid="extension-student"]', 'sam');
    await fill(form, '[data-testid="extension-due"]', '2026-12-09T11:00');
    await click(view, '[data-testid="extension-grant"]');
    expect(puts).toEqual([{ due_at: new Date('2026-12-09T11:00').toISOString() }]);
    expect(view.byTestId('extension-error')).toBeNull();
    expect(view.byTestId('extension-sam')).not.toBeNull();
    await click(view, '[data-testid="extension-ada"] [data-testid="extension-remove"]');
    expect(view.byTestId('extension-ada')).toBeNull();
    expect(calls.filter((c) => !c.startsWith('GET'))).toEqual([
      'PATCH /hw1',
      'PATCH /hw1',
      'PUT /hw1/extensions/eve',
      'PUT /hw1/extensions/sam',
      'DELETE /hw1/extensions/ada',
    ]);
    await view.unmount();
  });
});

describe('GradingView', () => {
  it('shows every test to the instructor, saves manual points and comments, regrades', async () => {
    const graded = {
      ...submission(7, 'graded', [
        FAILED,
        { ...FAILED, name: 'SECRET_hidden', max_score: 3, visibility: 'hidden' },
      ]),
      grade_runs: 1,
      manual: { points: { style: 1 }, comments: [] },
      score: 1,
      max_score: 7,
    };
    const puts: unknown[] = [];
    const { client, calls } = serverWith((request) => {
      switch (route(request)) {
        case 'GET ':
          return json(200, {
            assignments: [assignment({ rubric: [{ name: 'style', points: 2 }] })],
          });
        case 'GET /gradebook':
          return json(200, { assignments: ['hw1'], max_scores: { hw1: 7 }, students: [] });
        case 'GET /hw1/submissions':
          return json(200, { submissions: [graded] });
        case 'PUT /hw1/submissions/7/grade':
          void request.json().then((b: unknown) => puts.push(b));
          return json(200, { ...graded, score: 4 });
        case 'POST /hw1/submissions/7/regrade':
          return json(202, { queued: [7] });
        case 'POST /hw1/submissions/all/regrade':
          return json(202, { queued: [7] });
        case 'GET /hw1/submissions/7/file':
          expect(new URL(request.url).searchParams.get('path')).toBe('hw1.ipynb');
          return new Response('x = 1\ny = 2\n');
      }
      return undefined;
    });
    const notify = vi.fn();
    const view = await render(panel(client, { role: 'instructor', notify }));
    await settle();
    await click(view, '[data-testid="assignment-grade"]');
    await click(view, '[data-testid="grading-7"] button');
    const detail = view.byTestId('grading-detail');
    expect(detail?.textContent).toContain('SECRET_hidden');
    expect(detail?.textContent).toContain('hidden');
    const style = view.byTestId('grading-points-style') as HTMLInputElement;
    expect(style.value).toBe('1');
    const type = async (field: HTMLInputElement | null, value: string) => {
      await act(async () => {
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set?.call(
          field,
          value,
        );
        field?.dispatchEvent(new Event('input', { bubbles: true }));
      });
    };
    await type(style, '2');
    await type(view.byTestId('grading-points-SECRET_hidden') as HTMLInputElement, '1');
    // The submitted file is shown; picking line 2 puts the comment there.
    expect(view.byTestId('grading-code')?.textContent).toContain('y = 2');
    await click(view, '[aria-label="Comment on line 2"]');
    await type(view.byTestId('grading-comment') as HTMLInputElement, 'Nice.');
    const add = [...(detail?.querySelectorAll('button') ?? [])].find(
      (b) => b.textContent === 'Add',
    );
    await act(async () => add?.click());
    expect(view.byTestId('grading-line-comment')?.textContent).toBe('Nice.');
    await click(view, '[data-testid="grading-save"]');
    expect(puts).toEqual([
      {
        points: { style: 2, SECRET_hidden: 1 },
        comments: [{ path: 'hw1.ipynb', line: 2, text: 'Nice.' }],
      },
    ]);
    expect(notify).toHaveBeenCalledWith('info', '#7 of sam: 4 / 7');
    await type(view.byTestId('grading-points-style') as HTMLInputElement, 'two');
    await click(view, '[data-testid="grading-save"]');
    expect(view.byTestId('grading-error')?.textContent).toBe('Points for style must be a number');
    expect(puts).toHaveLength(1);
    await click(view, '[data-testid="grading-regrade"]');
    expect(calls).toContain('POST /hw1/submissions/7/regrade');
    await click(view, '[data-testid="grading-regrade-all"]');
    expect(calls).toContain('POST /hw1/submissions/all/regrade');
    await view.unmount();
  });
});

describe('explainRefusal', () => {
  it('adds when to try again to a 429 with Retry-After', () => {
    const now = new Date('2026-11-28T10:00:00Z');
    const text = explainRefusal({ status: 429, message: 'Too many', retryAfter: 60 }, now);
    expect(text).toMatch(/^Too many \(you can submit again in 60 s, at .+\)$/);
    expect(explainRefusal({ status: 429, message: 'Too many', retryAfter: null }, now)).toBe(
      'Too many',
    );
  });
});
