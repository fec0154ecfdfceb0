import { ServerConnection } from '@jupyterlab/services';
import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { IdeClient } from '../api/client';
import type { EditorHandle } from '../lib/editorHandle';
import { render, type Rendered } from '../testing/render';
import HelpQueuePanel from './HelpQueuePanel';
import type { LiveTarget } from '../lib/live';

// The live view's editor is Monaco over a socket (the browser tests show it): here, what it opens.
vi.mock('./LiveFile', () => ({
  LiveFile: ({ target, testId }: { target: LiveTarget; testId: string }) => (
    <div data-testid={`${testId}-line`} data-line={target.line}>
      {`${target.course} ${target.student} ${target.path}`}
    </div>
  ),
}));

type Route = (request: Request, body: unknown) => Response | undefined;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

/** A real IdeClient over a fetch that answers from ``route``; each call is noted. */
function serverWith(route: Route) {
  const calls: { call: string; body: unknown }[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/',
    fetch: async (input: RequestInfo, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const url = new URL(request.url);
      const text = request.method === 'GET' ? '' : await request.clone().text();
      const body: unknown = text ? JSON.parse(text) : null;
      const call = `${request.method} ${url.pathname.replace('/ide/api/courses/cs101', '')}`;
      calls.push({ call, body });
      return route(new Request(url, { method: request.method }), body) ?? json(404, {});
    },
  });
  return { client: new IdeClient(settings), calls };
}

function request(id: number, student: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    student,
    message: `${student} is stuck`,
    path: 'lab/loop.py',
    line: 3,
    status: 'open',
    raised_at: '2026-11-29T10:00:00+00:00',
    updated_at: '2026-11-29T10:00:00+00:00',
    waiting_seconds: 125,
    position: id,
    closed_at: null,
    closed_by: null,
    note: null,
    ...extra,
  };
}

const editor = {
  path: 'lab/loop.py',
  kind: 'file',
  context: () => ({
    path: 'lab/loop.py',
    language: 'python',
    content: 'a\nb\nc\n',
    selection: '',
    cursorLine: 3,
  }),
} as unknown as EditorHandle;

async function settle(ms = 50) {
  await act(async () => {
    await new Promise((r) => setTimeout(r, ms));
  });
}

async function click(view: Rendered, id: string) {
  const button = view.byTestId(id);
  expect(button, id).not.toBeNull();
  await act(async () => button?.click());
  await settle();
}

async function type(view: Rendered, id: string, value: string) {
  const input = view.byTestId(id) as HTMLTextAreaElement;
  await act(async () => {
    Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')?.set?.call(
      input,
      value,
    );
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

function panel(client: IdeClient, role: string) {
  return (
    <HelpQueuePanel
      client={client}
      course="cs101"
      courseCount={1}
      role={role}
      getEditor={() => editor}
      visible
      notify={vi.fn()}
    />
  );
}

describe('HelpQueuePanel', () => {
  it('lets a student raise a hand linked to the open file and line, and shows the place', async () => {
    let raised = false;
    const { client, calls } = serverWith((req) => {
      const path = new URL(req.url).pathname.replace('/ide/api/courses/cs101', '');
      if (req.method === 'GET' && path === '/help') {
        return json(200, {
          role: 'student',
          open: raised ? request(2, 'ann') : null,
          position: raised ? 2 : null,
          closed: [],
        });
      }
      if (req.method === 'POST' && path === '/help') {
        raised = true;
        return json(201, request(2, 'ann'));
      }
      if (path === '/ai-transcripts') {
        return json(200, { course: 'cs101', student: 'ann', retention_days: 180, transcripts: [] });
      }
      return undefined;
    });
    const view = await render(panel(client, 'student'));
    await settle();
    expect(view.byTestId('help-position')?.textContent).toBe('Your hand is not raised.');
    expect(view.byTestId('help-link-file')?.parentElement?.textContent).toContain(
      'lab/loop.py, line 3',
    );
    await type(view, 'help-message', 'my loop never ends');
    await click(view, 'help-raise');
    expect(calls.find((c) => c.call === 'POST /help')?.body).toEqual({
      message: 'my loop never ends',
      path: 'lab/loop.py',
      line: 3,
    });
    expect(view.byTestId('help-position')?.textContent).toContain('number 2');
    expect(view.byTestId('help-open')?.textContent).toContain('lab/loop.py:3');
    expect(view.byTestId('transcripts-retention')?.textContent).toContain('instructors can read');
    await view.unmount();
  });

  it('shows instructors the queue with waiting times, the file at the line, and returns', async () => {
    let queue = [request(1, 'ann'), request(2, 'bob', { path: null, line: null })];
    const { client, calls } = serverWith((req, body) => {
      const path = new URL(req.url).pathname.replace('/ide/api/courses/cs101', '');
      if (req.method === 'GET' && path === '/help') {
        return json(200, { role: 'instructor', queue, closed: [] });
      }
      if (path === '/help/1/file') {
        return json(200, { student: 'ann', path: 'lab/loop.py', line: 2, content: 'a\nb\nc' });
      }
      if (path === '/help/1/return') {
        queue = queue.slice(1);
        return json(
          200,
          request(1, 'ann', { status: 'returned', note: (body as { note: string }).note }),
        );
      }
      if (path === '/ai-transcripts') {
        return json(200, { course: 'cs101', student: null, retention_days: 180, transcripts: [] });
      }
      return undefined;
    });
    const view = await render(panel(client, 'instructor'));
    await settle();
    const rows = view.container.querySelectorAll('[data-testid="help-request"]');
    expect(
      [...rows].map((r) => r.querySelector('[data-testid="help-student"]')?.textContent),
    ).toEqual(['ann', 'bob']);
    expect(rows[0]?.querySelector('[data-testid="help-waiting"]')?.textContent).toBe('2 min');
    expect(rows[1]?.querySelector('[data-testid="help-open-file"]')).toBeNull();
    await click(view, 'help-open-file');
    // One click opens the student's live view at that line.
    expect(view.byTestId('help-file-line')?.textContent).toBe('cs101 ann lab/loop.py');
    expect(view.byTestId('help-file-line')?.getAttribute('data-line')).toBe('3'); // the request's
    await click(view, 'help-return');
    expect((view.byTestId('help-return-send') as HTMLButtonElement).disabled).toBe(true);
    await type(view, 'help-note', 'Print x first');
    await click(view, 'help-return-send');
    expect(calls.find((c) => c.call === 'POST /help/1/return')?.body).toEqual({
      note: 'Print x first',
    });
    expect(view.container.querySelectorAll('[data-testid="help-request"]')).toHaveLength(1);
    await view.unmount();
  });
});
