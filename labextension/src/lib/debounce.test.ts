import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debounced, type CancelToken } from './debounce';

/** A token like Monaco's: cancel() fires the listeners once. */
function makeToken() {
  const listeners = new Set<() => void>();
  const token = {
    isCancellationRequested: false,
    onCancellationRequested(listener: () => void) {
      listeners.add(listener);
      return { dispose: () => listeners.delete(listener) };
    },
  };
  return {
    token: token as CancelToken,
    listeners,
    cancel() {
      token.isCancellationRequested = true;
      listeners.forEach((l) => l());
    },
  };
}

describe('debounced', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs after the delay and gives the result', async () => {
    const { token, listeners } = makeToken();
    const run = vi.fn(async () => 'ghost');
    const result = debounced(200, token, run);
    await vi.advanceTimersByTimeAsync(199);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toBe('ghost');
    expect(run).toHaveBeenCalledOnce();
    expect(listeners.size).toBe(0);
  });

  it('only the last of a burst of keystrokes reaches the server', async () => {
    const run = vi.fn(async () => 'x');
    const results: Promise<string | null>[] = [];
    let previous: ReturnType<typeof makeToken> | null = null;
    for (let i = 0; i < 5; i++) {
      previous?.cancel();
      previous = makeToken();
      results.push(debounced(200, previous.token, run));
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(200);
    expect(await Promise.all(results)).toEqual([null, null, null, null, 'x']);
    expect(run).toHaveBeenCalledOnce();
  });

  it('aborts a request in flight when cancelled, and answers null', async () => {
    const { token, cancel } = makeToken();
    let seen: AbortSignal | null = null;
    const result = debounced(10, token, (signal) => {
      seen = signal;
      return new Promise<string>((_, reject) =>
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(seen).not.toBeNull();
    cancel();
    expect(await result).toBeNull();
    expect((seen as AbortSignal | null)?.aborted).toBe(true);
  });

  it('does nothing for a token already cancelled', async () => {
    const { token, cancel } = makeToken();
    cancel();
    const run = vi.fn(async () => 'x');
    expect(await debounced(10, token, run)).toBeNull();
    expect(run).not.toHaveBeenCalled();
  });

  it('passes on failures that are not cancellations', async () => {
    const { token } = makeToken();
    const result = debounced(10, token, async () => {
      throw new Error('429: too many requests');
    });
    const settled = expect(result).rejects.toThrow('429');
    await vi.advanceTimersByTimeAsync(10);
    await settled;
  });
});
