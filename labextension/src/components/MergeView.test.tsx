import { ServerConnection } from '@jupyterlab/services';
import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { IdeClient } from '../api/client';
import { render, type Rendered } from '../testing/render';
import AssignmentsPanel from './AssignmentsPanel';

// Monaco does not run in jsdom: its editor is replaced by models that keep their text, and a
// diff editor that shows them. Everything else (the panel, the client, the requests) is real.
const fake = vi.hoisted(() => ({
  models: [] as { value: string; language: string; disposed: boolean }[],
  diffEditors: 0,
}));

vi.mock('../monaco/setup', () => ({
  monaco: {
    editor: {
      createModel: (value: string, language: string) => {
        const model = {
          value,
          language,
          disposed: false,
          getValue: () => model.value,
          setValue: (v: string) => {
            model.value = v;
          },
          dispose: () => {
            model.disposed = true;
          },
        };
        fake.models.push(model);
        return model;
      },
      createDiffEditor: () => {
        fake.diffEditors += 1;
        return { setModel: () => undefined, dispose: () => undefined };
      },
    },
  },
}));

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

const HW1 = {
  course: 'cs101',
  name: 'hw1',
  title: 'Homework 1',
  folder: 'assignments/cs101/hw1',
  files: ['a.py', 'b.py'],
  version: 2,
  fetched_version: 2,
  released_at: '2026-11-28T10:00:00+00:00',
  due_at: null,
  tests: [],
};

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

async function waitFor(view: Rendered, id: string) {
  for (let i = 0; i < 40 && !view.byTestId(id); i++) {
    await settle(25);
  }
  expect(view.byTestId(id), id).not.toBeNull();
}

describe('MergeView in the student’s panel', () => {
  it('opens a kept file’s versions, refuses a stale merge, saves the edited merge', async () => {
    let kept = ['a.py', 'b.py'];
    const posted: unknown[] = [];
    let stale = true;
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://127.0.0.1:8888/',
      fetch: async (input: RequestInfo, init?: RequestInit) => {
        const request = input instanceof Request ? input : new Request(input, init);
        const url = new URL(request.url);
        const path = url.pathname.replace('/ide/api/courses/cs101/assignments', '');
        if (request.method === 'GET' && path === '') {
          const notice = kept.length ? { kept, message: 'kept' } : null;
          return json(200, { assignments: [{ ...HW1, notice }] });
        }
        if (request.method === 'GET' && path === '/hw1/merge') {
          expect(url.searchParams.get('path')).toBe('a.py');
          return json(200, {
            path: 'a.py',
            folder: HW1.folder,
            version: 2,
            base: 'x = 0\n',
            theirs: 'x = 1  # mine\n',
            theirs_hash: 'h1',
            new: '"""Fixed."""\nx = 0\n',
          });
        }
        if (request.method === 'POST' && path === '/hw1/merge') {
          posted.push(await request.json());
          if (stale) {
            stale = false;
            return json(409, { message: 'a.py changed since you opened the merge' });
          }
          kept = ['b.py'];
          return json(200, {
            path: 'a.py',
            folder: HW1.folder,
            choice: 'merged',
            version: 2,
            written: true,
            kept,
          });
        }
        return json(404, { message: 'not here' });
      },
    });
    const changed: string[][] = [];
    const notify = vi.fn();
    const view = await render(
      <AssignmentsPanel
        client={new IdeClient(settings)}
        course="cs101"
        courseCount={1}
        visible
        onFilesChanged={(paths) => changed.push(paths)}
        notify={notify}
      />,
    );
    await settle();
    await click(view, '[data-testid="assignment-merge-a.py"]');
    await waitFor(view, 'merge-view');
    expect(fake.diffEditors).toBe(1);
    const [left, right] = fake.models.slice(-2);
    if (!left || !right) {
      throw new Error('the diff editor has no models');
    }
    expect([left.value, left.language, right.value]).toEqual([
      '"""Fixed."""\nx = 0\n',
      'python',
      'x = 1  # mine\n',
    ]);
    // The left side can show the file as it was given.
    const select = view.container.querySelector<HTMLSelectElement>('[data-testid="merge-left"]');
    await act(async () => {
      Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value')?.set?.call(
        select,
        'base',
      );
      select?.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(left.value).toBe('x = 0\n');
    // The release's change does not fit the student's line: said, nothing changed.
    await click(view, '[data-testid="merge-apply"]');
    expect(view.byTestId('merge-error')?.textContent).toContain('merge them by hand');
    expect(right.value).toBe('x = 1  # mine\n');
    // The student edits the right side, then saves: first refused (stale), shown; then saved.
    right.value = '"""Fixed."""\nx = 1  # mine\n';
    await click(view, '[data-testid="merge-save"]');
    expect(view.byTestId('merge-error')?.textContent).toContain('changed since you opened');
    expect(view.byTestId('merge-view')).not.toBeNull();
    await click(view, '[data-testid="merge-save"]');
    expect(posted).toEqual([
      {
        path: 'a.py',
        choice: 'merged',
        content: '"""Fixed."""\nx = 1  # mine\n',
        theirs_hash: 'h1',
      },
      {
        path: 'a.py',
        choice: 'merged',
        content: '"""Fixed."""\nx = 1  # mine\n',
        theirs_hash: 'h1',
      },
    ]);
    expect(view.byTestId('merge-view')).toBeNull();
    expect(left.disposed && right.disposed).toBe(true);
    expect(changed).toEqual([['assignments/cs101/hw1/a.py']]);
    expect(notify).toHaveBeenCalledWith('info', 'a.py: your merge saved');
    expect(view.byTestId('assignment-merge-a.py')).toBeNull();
    expect(view.byTestId('assignment-merge-b.py')).not.toBeNull();
    await view.unmount();
  });
});
