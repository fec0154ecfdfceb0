import { ServerConnection } from '@jupyterlab/services';
import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { IdeClient } from '../api/client';
import type { LiveTarget } from '../lib/live';
import type { Services } from '../services';
import { render } from '../testing/render';
import LiveView from './LiveView';

// The file itself is Monaco over a socket (the browser tests show it): here, what it opens.
vi.mock('./LiveFile', () => ({
  LiveFile: ({ target, writable }: { target: LiveTarget; writable: boolean }) => (
    <div data-testid="live-file">{`${target.student} ${target.path} ${writable}`}</div>
  ),
}));
// So is a notebook (Monaco per cell over a socket).
vi.mock('./LiveNotebook', () => ({
  LiveNotebook: ({ target, writable }: { target: LiveTarget; writable: boolean }) => (
    <div data-testid="live-notebook">{`${target.student} ${target.path} ${writable}`}</div>
  ),
}));
// Joining the student's presence room needs a server: it is the browser tests' part.
vi.mock('../lib/liveBinding', () => ({ watchPresence: () => () => undefined }));

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

function servicesWith(route: (method: string, path: string, body: unknown) => Response | null) {
  const calls: string[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/',
    fetch: async (input: RequestInfo, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const path = new URL(request.url).pathname.replace('/ide/api/classroom/cs101/live/', '');
      const text = request.method === 'GET' ? '' : await request.clone().text();
      calls.push(`${request.method} ${path}`);
      return route(request.method, path, text ? JSON.parse(text) : null) ?? json(404, {});
    },
  });
  const services = { settings, ide: new IdeClient(settings) } as unknown as Services;
  return { services, calls };
}

async function settle() {
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
}

async function click(node: Element | null) {
  await act(async () => {
    (node as HTMLElement).click();
  });
  await settle();
}

describe('LiveView', () => {
  it('lists students, opens one workspace with its runs, a file, and pair editing', async () => {
    let pairing = false;
    const { services, calls } = servicesWith((method, path, body) => {
      if (path === 'members') {
        return json(200, {
          members: [
            { name: 'ida', role: 'instructor', open: [] },
            { name: 'ann', role: 'student', open: ['lab/a.py'] },
          ],
        });
      }
      if (path === 'options') {
        if (method === 'PUT') {
          pairing = (body as { pair_editing: boolean }).pair_editing;
        }
        return json(200, { course: 'cs101', pair_editing: pairing });
      }
      if (path === 'ann/files') {
        return json(200, {
          files: [
            { path: 'lab', kind: 'directory', size: 0, modified: null },
            { path: 'lab/a.py', kind: 'file', size: 4, modified: null },
          ],
          open: ['lab/a.py'],
        });
      }
      if (path === 'pairs') {
        return json(200, { course: 'cs101', pairs: [{ students: ['ann', 'bob'] }] });
      }
      if (path === 'ann/runs') {
        return json(200, { runs: [{ token: 't1', language: 'python', stdout: 'hi\n' }] });
      }
      return null;
    });
    const view = await render(
      <LiveView services={services} course="cs101" role="instructor" visible={true} />,
    );
    await settle();
    expect(view.byTestId('live-member-ida')).toBeNull(); // students only
    expect(view.byTestId('live-pair-ann+bob')?.textContent).toContain('ann & bob');
    expect(view.byTestId('live-members')?.textContent).toContain('editing lab/a.py');
    await click(view.byTestId('live-member-ann'));
    expect(view.byTestId('live-files')?.textContent).toContain('(open now)');
    expect(view.byTestId('live-run-stdout')?.textContent).toBe('hi\n');
    await click(view.byTestId('live-open-lab/a.py'));
    expect(view.byTestId('live-file')?.textContent).toBe('ann lab/a.py false');
    await click(view.byTestId('live-pairing'));
    expect(calls).toContain('PUT options');
    expect(view.byTestId('live-file')?.textContent).toBe('ann lab/a.py true');
    await view.unmount();
  });

  it('tells an unpaired student what the view is for, asking only for their partner', async () => {
    const { services, calls } = servicesWith((_method, path) =>
      path === 'pairs' ? json(200, { course: 'cs101', pairs: [], partner: null }) : null,
    );
    const view = await render(
      <LiveView services={services} course="cs101" role="student" visible={true} />,
    );
    await settle();
    expect(view.byTestId('live-view')?.textContent).toContain('instructors');
    expect(view.byTestId('partner-none')?.textContent).toContain('not paired you');
    expect(calls).toEqual(['GET pairs']);
    await view.unmount();
  });

  it("shows a paired student the partner's files and opens one writable", async () => {
    const { services, calls } = servicesWith((_method, path) => {
      if (path === 'pairs') {
        return json(200, {
          course: 'cs101',
          pairs: [{ students: ['ann', 'bob'] }],
          partner: 'bob',
        });
      }
      if (path === 'bob/files') {
        return json(200, {
          files: [{ path: 'lab/b.py', kind: 'file', size: 1, modified: null }],
          open: ['lab/b.py'],
        });
      }
      return null;
    });
    const view = await render(
      <LiveView services={services} course="cs101" role="student" visible={true} />,
    );
    await settle();
    expect(view.byTestId('partner-files')?.textContent).toContain('bob is editing it');
    await click(view.byTestId('partner-open-lab/b.py'));
    expect(view.byTestId('live-file')?.textContent).toBe('bob lab/b.py true');
    expect(calls).toEqual(['GET pairs', 'GET bob/files']);
    await view.unmount();
  });
});
