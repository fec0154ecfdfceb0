/** Wait before doing costly work, and give it up as soon as its caller no longer wants it. */

/** Monaco's CancellationToken, or anything shaped like it. */
export interface CancelToken {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * Wait ``ms``, then ``run`` with a signal that aborts when ``token`` is cancelled. A request
 * replaced by a newer keystroke is cancelled by its editor, so only the last one of a burst
 * reaches the server, and one in flight is aborted. Resolves to null when cancelled.
 */
export async function debounced<T>(
  ms: number,
  token: CancelToken,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T | null> {
  if (token.isCancellationRequested) {
    return null;
  }
  const controller = new AbortController();
  const subscription = token.onCancellationRequested(() => controller.abort());
  try {
    await sleep(ms, controller.signal);
    if (controller.signal.aborted) {
      return null;
    }
    try {
      return await run(controller.signal);
    } catch (e) {
      if (controller.signal.aborted) {
        return null;
      }
      throw e;
    }
  } finally {
    subscription.dispose();
  }
}
