import { ServerConnection } from '@jupyterlab/services';
import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { IdeClient } from '../api/client';
import { render } from '../testing/render';
import TimelinePanel from './TimelinePanel';

// The replay's editor is Monaco (the browser test steps through it): here, what it opens.
vi.mock('./Replay', () => ({
  Replay: ({ student, path }: { student: string; path: string }) => (
    <div data-testid="replay">{`${student} ${path}`}</div>
  ),
}));

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

/** A real IdeClient over a fetch answering the dashboard and timelines; GETs are noted. */
function serverWith() {
  const calls: string[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/',
    fetch: async (input: RequestInfo, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const url = new URL(request.url);
      const path = url.pathname.replace('/ide/api/courses/cs101', '');
      calls.push(`${path}${url.search}`);
      if (path === '/dashboard') {
        return json(200, {
          course: 'cs101',
          assignment: 'lab',
          students: [
            {
              student: 'ann',
              online: true,
              path: 'main.py',
              last_run: { id: 4, description: 'Wrong Answer' },
              failing_tests: 1,
              tests: 2,
              hand_raised: true,
              ai_requests_10m: 3,
            },
          ],
          totals: { online: 1, hands: 1 },
        });
      }
      if (path === '/activity') {
        const student = url.searchParams.get('student') || 'bob';
        return json(200, {
          course: 'cs101',
          student,
          path: null,
          events: [
            { kind: 'save', time: '2026-11-29T10:00:00+00:00', path: 'main.py', size: 10 },
            {
              kind: 'paste',
              time: '2026-11-29T10:00:05+00:00',
              path: 'main.py',
              size: 500,
              source: 'lib/helper.py',
            },
          ],
        });
      }
      return json(404, {});
    },
  });
  return { client: new IdeClient(settings), calls };
}

async function settle(ms = 50) {
  await act(async () => {
    await new Promise((r) => setTimeout(r, ms));
  });
}

describe('TimelinePanel', () => {
  it('shows instructors the dashboard; a student click opens their timeline and replay', async () => {
    const { client, calls } = serverWith();
    const view = await render(
      <TimelinePanel client={client} course="cs101" role="instructor" visible />,
    );
    await settle();
    const row = view.byTestId('lab-row-ann');
    expect(row?.textContent).toContain('main.py');
    expect(row?.textContent).toContain('Wrong Answer');
    expect(row?.textContent).toContain('1/2');
    expect(row?.textContent).toContain('✋');
    const open = [...(row?.querySelectorAll('button') ?? [])].find((b) => b.textContent === 'ann');
    await act(async () => open?.click());
    await settle();
    expect(calls.some((c) => c.startsWith('/activity?student=ann&path='))).toBe(true);
    const paste = view.byTestId('timeline-paste');
    expect(paste?.textContent).toContain('pasted 500 characters from lib/helper.py');
    await act(async () => paste?.querySelector('button')?.click());
    expect(view.byTestId('replay')?.textContent).toBe('ann main.py');
  });

  it('shows a student their own timeline and no dashboard', async () => {
    const { client, calls } = serverWith();
    const view = await render(
      <TimelinePanel client={client} course="cs101" role="student" visible />,
    );
    await settle();
    expect(view.byTestId('lab-dashboard')).toBeNull();
    expect(view.byTestId('timeline-save')).not.toBeNull();
    expect(calls.some((c) => c.startsWith('/dashboard'))).toBe(false);
  });
});
