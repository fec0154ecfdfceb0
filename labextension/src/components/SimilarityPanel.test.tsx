import { ServerConnection } from '@jupyterlab/services';
import { act } from 'react';
import { describe, expect, it } from 'vitest';
import { IdeClient } from '../api/client';
import { render } from '../testing/render';
import { pieces } from './SimilarityPairView';
import { SimilarityPanel } from './SimilarityPanel';

const RUN = {
  id: 3,
  status: 'done',
  phase: 'saving',
  done: 1,
  total: 1,
  percent: 100,
  started_by: 'prof',
  created_at: '2026-11-29T06:00:00+00:00',
  finished_at: '2026-11-29T06:00:05+00:00',
  error: null,
  submissions: 3,
  pairs: 3,
  skipped: [{ student: 'eve', path: 'data.bin', reason: 'binary' }],
};
const PAIR = {
  id: 11,
  rank: 1,
  a: { student: 'ann', submission: 1 },
  b: { student: 'bob', submission: 2 },
  score: 0.925,
  similarity_a: 0.9,
  similarity_b: 0.95,
};
const TEXT_A = 'def f(x):\n    return x + 1\n';
const TEXT_B = 'def g(y):\n    return y + 1\n';
const REGION = (start: number, end: number) => ({
  start,
  end,
  start_line: 1,
  start_column: start + 1,
  end_line: 2,
  end_column: 17,
});

/** The server's answers, by path below /ide/api/courses/cs1/assignments/hw/. */
function server(seen: string[]) {
  const answers: Record<string, unknown> = {
    similarity: { run: RUN, result: RUN },
    'similarity/pairs': { run: RUN, stored: 1, offset: 0, pairs: [PAIR] },
    'similarity/pairs/11': {
      ...PAIR,
      files_a: { 'a.py': { text: TEXT_A, language: 'python' } },
      files_b: { 'b.py': { text: TEXT_B, language: 'python' } },
      matches: [
        {
          path_a: 'a.py',
          path_b: 'b.py',
          similarity_a: 0.9,
          similarity_b: 0.95,
          matched_tokens: 20,
          regions_a: [REGION(0, 26)],
          regions_b: [REGION(0, 26)],
        },
      ],
    },
  };
  return ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/',
    fetch: async (input: RequestInfo, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const path = new URL(request.url).pathname.replace(
        /^\/ide\/api\/courses\/cs1\/assignments\/hw\//,
        '',
      );
      seen.push(`${request.method} ${path}`);
      const body = answers[path];
      return new Response(JSON.stringify(body ?? { message: 'no' }), {
        status: body ? 200 : 404,
        headers: { 'Content-Type': 'application/json' },
      });
    },
  });
}

describe('similarity', () => {
  it('splits a text into matched and plain pieces', () => {
    const at = (start: number, end: number) => ({
      start,
      end,
      startLine: 1,
      startColumn: start + 1,
      endLine: 1,
      endColumn: end + 1,
    });
    const regions = [at(4, 8), at(0, 2), at(6, 10)];
    expect(pieces('abcdefghijkl', regions)).toEqual([
      { text: 'ab', hit: true },
      { text: 'cd', hit: false },
      { text: 'efgh', hit: true },
      { text: 'ij', hit: true },
      { text: 'kl', hit: false },
    ]);
  });

  it('shows the ranked pairs and a pair side by side with its matches marked', async () => {
    const seen: string[] = [];
    const client = new IdeClient(server(seen));
    const view = await render(<SimilarityPanel client={client} course="cs1" assignment="hw" />);
    await act(async () => new Promise((r) => setTimeout(r, 0)));
    const row = view.byTestId('similarity-pair-1');
    expect(row?.textContent).toContain('ann · bob');
    expect(row?.textContent).toContain('92.5%');
    expect(view.byTestId('similarity-result')?.textContent).toContain('1 file(s) left out');
    await act(async () => row?.click());
    await act(async () => new Promise((r) => setTimeout(r, 0)));
    const left = view.byTestId('similarity-side-a');
    expect(left?.querySelector('mark')?.textContent).toBe(TEXT_A.slice(0, 26));
    expect(view.byTestId('similarity-side-b')?.textContent).toContain('def g(y)');
    expect(seen).toContain('GET similarity/pairs/11');
    await view.unmount();
  });
});
