import { describe, expect, it } from 'vitest';
import { fromBase64, parsePolicy, parseRun, parseUsage, toBase64 } from './api';
import { waitForRun } from './poll';
import { aiText, sandboxText } from './statusText';
import type { IdeApi, Run } from './api';

describe('answers', () => {
  it('reads a policy; an unknown mode is off', () => {
    expect(parsePolicy({ course: 'cs1', courses: ['cs1', 'cs2'], mode: 'hint' })).toEqual({
      course: 'cs1',
      courses: ['cs1', 'cs2'],
      mode: 'hint',
      reason: null,
    });
    expect(parsePolicy({ mode: 'lenient' }).mode).toBe('off');
    expect(parsePolicy(null).mode).toBe('off');
  });

  it('reads usage and says the fullest quota', () => {
    const usage = parseUsage({
      totals: { total_tokens: 1500 },
      quota: {
        limits: [
          { name: 'daily tokens', used: 1500, limit: 200000 },
          { name: 'requests/min', used: 3, limit: 4 },
        ],
      },
    });
    expect(usage.totalTokens).toBe(1500);
    expect(aiText('full', usage.limits, null)).toBe('AI: 3/4 requests/min');
    expect(aiText('full', [], null)).toBe('AI: full');
    expect(aiText('off', usage.limits, null)).toBe('AI: off');
    expect(aiText('full', [], 'no provider')).toBe('AI: unavailable');
    expect(sandboxText({ state: 'ok', detail: 'docker' })).toBe('Sandbox: ok');
    expect(sandboxText(undefined)).toBe('Sandbox: unknown');
  });

  it('decodes a judge run (UTF-8 in base64)', () => {
    const run = parseRun({
      token: 't',
      status: { id: 3, description: 'Accepted' },
      stdout: toBase64('héllo\n'),
      stderr: null,
      time: '0.01',
    });
    expect(run).toMatchObject({ statusId: 3, status: 'Accepted', stdout: 'héllo\n', stderr: '' });
    expect(fromBase64(toBase64('∑ x'))).toBe('∑ x');
  });

  it('polls a run until it is no longer queued or processing', async () => {
    const states = [1, 2, 3];
    const api = {
      run: async (token: string): Promise<Run> =>
        parseRun({ token, status: { id: states.shift(), description: 'x' } }),
    } as unknown as IdeApi;
    let slept = 0;
    const run = await waitForRun(api, 'tok', async () => {
      slept += 1;
    });
    expect(run.statusId).toBe(3);
    expect(slept).toBe(2);
    const stuck = { run: async () => parseRun({ status: { id: 1 } }) } as unknown as IdeApi;
    await expect(waitForRun(stuck, 'tok', async () => undefined, -1)).rejects.toThrow(
      /did not finish/,
    );
  });
});
