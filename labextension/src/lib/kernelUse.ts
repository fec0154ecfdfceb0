/** Whether a notebook's kernel may be shut down when its tab closes: nobody else uses it. */
import { KernelAPI, type ServerConnection, type SessionManager } from '@jupyterlab/services';

/** none: no kernel; keep: another view uses it; declined: running, and the user kept it. */
export type CloseDecision = 'none' | 'shutdown' | 'ask' | 'keep' | 'declined';

/** What the server says about the kernel of a notebook. */
export interface KernelUse {
  /** Open websockets to the kernel (each view of it holds one), from /api/kernels. */
  connections: number;
  executionState: string;
}

/** Decide what closing the last view in this tab means for the kernel. */
export function closeDecision(use: KernelUse | null): CloseDecision {
  if (use === null) {
    return 'none';
  }
  if (use.connections > 1) {
    // Another view (a second browser tab, JupyterLab) is attached: it keeps the kernel.
    return 'keep';
  }
  return use.executionState === 'busy' ? 'ask' : 'shutdown';
}

/** Read how a kernel is used, or null when it is gone. */
export async function kernelUse(
  kernelId: string,
  settings: ServerConnection.ISettings,
): Promise<KernelUse | null> {
  const model = (await KernelAPI.getKernelModel(kernelId, settings)) as
    (KernelAPI.IModel & { connections?: unknown }) | undefined;
  if (!model) {
    return null;
  }
  return {
    connections: typeof model.connections === 'number' ? model.connections : 1,
    executionState: String(model.execution_state ?? ''),
  };
}

/** What to do with a closing notebook's session, decided while its own view is attached. */
export interface ClosePlan {
  decision: CloseDecision;
  sessionId: string | null;
}

/**
 * Called just before a notebook's tab closes, while its own view still holds one connection:
 * plan to shut its session (and kernel) down when no other view uses it; ask first when a
 * cell is still running.
 */
export async function planClose(
  path: string,
  sessions: SessionManager,
  settings: ServerConnection.ISettings,
  confirm: (question: string) => boolean,
): Promise<ClosePlan> {
  const session = await sessions.findByPath(path);
  const kernelId = session?.kernel?.id;
  if (!session || !kernelId) {
    return { decision: 'none', sessionId: null };
  }
  let decision = closeDecision(await kernelUse(kernelId, settings));
  if (decision === 'ask') {
    decision = confirm(`A cell of ${path} is still running. Stop its kernel?`)
      ? 'shutdown'
      : 'declined';
  }
  return { decision, sessionId: session.id };
}
