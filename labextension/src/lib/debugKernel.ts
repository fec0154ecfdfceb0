/** Debugging Python in a Jupyter kernel: DAP over the kernel's control channel, as JupyterLab. */
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import { debugStore, type DebugLocation } from './debugStore';
import {
  DebugSession,
  type DapEvent,
  type DapResponse,
  type DapTransport,
  type Debugger,
} from './debugSession';

/** DAP over a kernel: debug_request/debug_reply on control, debug_event on IOPub. */
export function kernelTransport(kernel: Kernel.IKernelConnection): DapTransport {
  let seq = 0;
  return {
    async request(command, args) {
      seq += 1;
      const future = kernel.requestDebug({ seq, type: 'request', command, arguments: args });
      const reply = await future.done;
      return reply.content as unknown as DapResponse;
    },
    onEvent(listener) {
      const slot = (_: unknown, msg: KernelMessage.IIOPubMessage) => {
        if (msg.header.msg_type === 'debug_event') {
          listener(msg.content as unknown as DapEvent);
        }
      };
      kernel.iopubMessage.connect(slot);
      return () => kernel.iopubMessage.disconnect(slot);
    },
  };
}

/** Whether a kernel's kernel_info says it has a debugger (ipykernel 6: debugger, 7: features). */
export function hasDebugger(info: Record<string, unknown> | null | undefined): boolean {
  if (!info) {
    return false;
  }
  const features = info.supported_features;
  return info.debugger === true || (Array.isArray(features) && features.includes('debugger'));
}

/** A debugger attached to one kernel; each editor's code is dumped so breakpoints map to it. */
export class KernelDebugger implements Debugger {
  readonly session: DebugSession;
  /** Editor key -> [the code last dumped, its source path in the kernel]. */
  private dumped = new Map<string, { code: string; path: string }>();
  private stopStore: () => void;

  constructor(readonly kernel: Kernel.IKernelConnection) {
    this.session = new DebugSession(kernelTransport(kernel), 'python');
    // A breakpoint toggled while debugging applies at once to code already dumped.
    this.stopStore = debugStore.subscribe(() => void this.resend());
  }

  /** Initialize and attach; say the configuration is done. */
  async start(): Promise<void> {
    const info = await this.kernel.info;
    if (!hasDebugger(info as unknown as Record<string, unknown>)) {
      throw new Error(`The kernel ${this.kernel.name} has no debugger.`);
    }
    await this.session.initialize(true);
    await this.session.request('configurationDone');
    active.set(this.kernel.id, this);
    // A restarted or dead kernel has forgotten the debugger: the session is over.
    const onStatus = (_: unknown, status: Kernel.Status) => {
      if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
        this.kernel.statusChanged.disconnect(onStatus);
        active.delete(this.kernel.id);
        this.session.print('The kernel restarted: debugging ended.\n');
        this.session.end();
      }
    };
    this.kernel.statusChanged.connect(onStatus);
  }

  /** Dump an editor's code and set its breakpoints (before it runs). */
  async sync(key: string, code: string): Promise<string> {
    const body = await this.session.request('dumpCell', { code });
    const path = String(body.sourcePath ?? '');
    this.dumped.set(key, { code, path });
    await this.session.setBreakpoints(path, debugStore.sourceBreakpoints(key));
    return path;
  }

  private async resend(): Promise<void> {
    for (const [key, { path }] of this.dumped) {
      await this.session
        .setBreakpoints(path, debugStore.sourceBreakpoints(key))
        .catch(() => undefined);
    }
  }

  /** The editor location of a frame's source path, when it is code dumped here. */
  locate(path: string, line: number): DebugLocation | null {
    for (const [key, dumped] of this.dumped) {
      if (dumped.path === path) {
        return { key, line };
      }
    }
    return null;
  }

  /** Detach: the kernel runs on without the debugger. */
  async stop(): Promise<void> {
    active.delete(this.kernel.id);
    this.stopStore();
    try {
      await this.session.request('disconnect', { restart: false, terminateDebuggee: false });
    } catch {
      // the kernel may be gone already
    }
    this.session.end();
    this.session.dispose();
  }
}

const active = new Map<string, KernelDebugger>();

/** Before a notebook cell runs: when its kernel is being debugged, dump it with its breakpoints. */
export async function debugBeforeRun(kernelId: string, key: string, code: string): Promise<void> {
  const debug = active.get(kernelId);
  if (debug) {
    await debug.sync(key, code);
    debug.session.running();
  }
}
