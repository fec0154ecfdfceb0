/** Waiting for a judge run to finish. */
import { isPending, type IdeApi, type Run } from './api';

const POLL_MS = 300;
const GIVE_UP_MS = 180_000;

/** Wait for a submission to finish, polling the judge. */
export async function waitForRun(
  api: IdeApi,
  token: string,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  giveUpMs = GIVE_UP_MS,
): Promise<Run> {
  const start = Date.now();
  for (;;) {
    const run = await api.run(token);
    if (!isPending(run)) {
      return run;
    }
    if (Date.now() - start > giveUpMs) {
      throw new Error(`The run did not finish within ${Math.round(giveUpMs / 1000)} s`);
    }
    await sleep(POLL_MS);
  }
}
