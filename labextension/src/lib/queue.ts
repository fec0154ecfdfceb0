/** Run async jobs one after another, so two saves of one document never overlap. */

export type Queue = <T>(job: () => Promise<T>) => Promise<T>;

/** Return a queue: each job starts when the one before it has settled, failed or not. */
export function makeQueue(): Queue {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>): Promise<T> => {
    const result = tail.then(job, job);
    tail = result.catch(() => undefined);
    return result;
  };
}
