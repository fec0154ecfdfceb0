import { describe, expect, it } from 'vitest';
import { makeQueue } from './queue';

function later<T>(value: T, ms: number, log: string[]): () => Promise<T> {
  return () =>
    new Promise((resolve) => {
      log.push(`start ${String(value)}`);
      setTimeout(() => {
        log.push(`end ${String(value)}`);
        resolve(value);
      }, ms);
    });
}

describe('makeQueue', () => {
  it('runs jobs one at a time, in order', async () => {
    const queue = makeQueue();
    const log: string[] = [];
    const results = await Promise.all([queue(later(1, 20, log)), queue(later(2, 1, log))]);
    expect(results).toEqual([1, 2]);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('goes on after a job fails, and hands the failure to its caller', async () => {
    const queue = makeQueue();
    const failed = queue(() => Promise.reject(new Error('boom')));
    const next = queue(async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });
});
