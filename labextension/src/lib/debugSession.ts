/** A Debug Adapter Protocol session: requests, events, and the paused program's state. */

import { supportedBreakpoints, type BreakpointSupport, type SourceBreakpoint } from './debugStore';

/** A DAP response (the body's shape depends on the command). */
export interface DapResponse {
  success: boolean;
  message?: string;
  command?: string;
  body?: Record<string, unknown>;
}

/** A DAP event. */
export interface DapEvent {
  event: string;
  body?: Record<string, unknown>;
}

/** How requests reach an adapter and events come back (a kernel, or a websocket). */
export interface DapTransport {
  request(command: string, args: Record<string, unknown>): Promise<DapResponse>;
  /** Call ``listener`` with every event; return what stops it. */
  onEvent(listener: (event: DapEvent) => void): () => void;
}

/** One frame of the call stack. */
export interface StackFrame {
  id: number;
  name: string;
  line: number;
  path: string;
}

/** One variable (or child of one); ``ref`` > 0 means it can be expanded. */
export interface Variable {
  name: string;
  value: string;
  type: string;
  ref: number;
}

/** A scope of a frame (Locals, Globals). */
export interface Scope {
  name: string;
  ref: number;
}

export type DebugState = 'starting' | 'running' | 'stopped' | 'ended';

/** A running debugger of any kind, as the Debugger panel drives it. */
export interface Debugger {
  readonly session: DebugSession;
  /** The editor location of a frame's source path, or null when it is not an editor's. */
  locate(path: string, line: number): { key: string; line: number } | null;
  /** End debugging. */
  stop(): Promise<void>;
}

/** An error a DAP response carried. */
export class DapError extends Error {}

/** Return the body of a successful response, or throw its message. */
export function bodyOf(response: DapResponse): Record<string, unknown> {
  if (!response.success) {
    throw new DapError(response.message || `The debugger refused ${response.command ?? 'it'}`);
  }
  return response.body ?? {};
}

/** Read the frames of a stackTrace response body. */
export function framesOf(body: Record<string, unknown>): StackFrame[] {
  const frames = Array.isArray(body.stackFrames) ? body.stackFrames : [];
  return frames.map((f: Record<string, unknown>) => ({
    id: Number(f.id),
    name: String(f.name ?? ''),
    line: Number(f.line ?? 0),
    path: String((f.source as { path?: string } | undefined)?.path ?? ''),
  }));
}

/** Read the variables of a variables response body. */
export function variablesOf(body: Record<string, unknown>): Variable[] {
  const list = Array.isArray(body.variables) ? body.variables : [];
  return list.map((v: Record<string, unknown>) => ({
    name: String(v.name ?? ''),
    value: String(v.value ?? ''),
    type: String(v.type ?? ''),
    ref: Number(v.variablesReference ?? 0),
  }));
}

/** Read the scopes of a scopes response body. */
export function scopesOf(body: Record<string, unknown>): Scope[] {
  const list = Array.isArray(body.scopes) ? body.scopes : [];
  return list.map((s: Record<string, unknown>) => ({
    name: String(s.name ?? ''),
    ref: Number(s.variablesReference ?? 0),
  }));
}

/** A session with one adapter: the commands of the Debugger panel, and its state. */
export class DebugSession {
  state: DebugState = 'starting';
  threadId: number | null = null;
  /** What the program printed and the adapter said (the debug console's output). */
  output: string[] = [];
  /** The adapter's capabilities (from initialize). */
  capabilities: BreakpointSupport & Record<string, unknown> = {};
  /** Notes already printed about breakpoints the adapter cannot take. */
  private noted = new Set<string>();
  private listeners = new Set<() => void>();
  private eventListeners = new Set<(event: DapEvent) => void>();
  private stopEvents: () => void;

  constructor(
    private transport: DapTransport,
    private adapterID: string,
  ) {
    this.stopEvents = transport.onEvent((event) => this.onEvent(event));
  }

  /** Call ``listener`` on every change of state; return what unsubscribes it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.listeners.forEach((l) => l());
  }

  /** Call ``listener`` with every DAP event; return what unsubscribes it. */
  subscribeEvents(listener: (event: DapEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private onEvent(event: DapEvent): void {
    this.eventListeners.forEach((l) => l(event));
    const body = event.body ?? {};
    if (event.event === 'stopped') {
      this.state = 'stopped';
      this.threadId = typeof body.threadId === 'number' ? body.threadId : this.threadId;
    } else if (event.event === 'continued') {
      this.state = 'running';
    } else if (
      event.event === 'output' &&
      typeof body.output === 'string' &&
      body.category !== 'telemetry'
    ) {
      this.output.push(body.output);
    } else if (event.event === 'terminated' || event.event === 'exited') {
      this.state = 'ended';
    } else {
      return;
    }
    this.changed();
  }

  /** Send a request; return its body or throw its message. */
  async request(command: string, args: Record<string, unknown> = {}) {
    return bodyOf(await this.transport.request(command, args));
  }

  /** Initialize the adapter (and attach, for a kernel's debugger). */
  async initialize(attach: boolean): Promise<Record<string, unknown>> {
    const capabilities = await this.request('initialize', {
      clientID: 'jupyter-ide',
      clientName: 'jupyter-ide',
      adapterID: this.adapterID,
      pathFormat: 'path',
      linesStartAt1: true,
      columnsStartAt1: true,
      supportsVariableType: true,
      locale: 'en',
    });
    this.capabilities = capabilities;
    if (attach) {
      await this.request('attach', {});
    }
    return capabilities;
  }

  /** Mark the program as running (after it was launched or a cell sent). */
  running(): void {
    this.state = 'running';
    this.changed();
  }

  /** Mark the session as over. */
  end(): void {
    this.state = 'ended';
    this.changed();
  }

  /** Print a line in the debug console. */
  print(text: string): void {
    this.output.push(text);
    this.changed();
  }

  /** Set the breakpoints of one source path (with their conditions and log messages); those
   * with a kind the adapter does not announce are left out, saying so in the console once. */
  async setBreakpoints(path: string, breakpoints: SourceBreakpoint[]): Promise<void> {
    const { sent, notes } = supportedBreakpoints(breakpoints, this.capabilities);
    for (const note of notes.filter((n) => !this.noted.has(n))) {
      this.noted.add(note);
      this.print(`${note}\n`);
    }
    await this.request('setBreakpoints', {
      source: { path },
      breakpoints: sent.map((b) => ({ ...b })),
      lines: sent.map((b) => b.line),
      sourceModified: false,
    });
  }

  /** Resume or step the stopped thread. */
  async step(command: 'continue' | 'next' | 'stepIn' | 'stepOut'): Promise<void> {
    if (this.threadId === null) {
      return;
    }
    this.state = 'running';
    this.changed();
    await this.request(command, { threadId: this.threadId });
  }

  /** Pause the running program (its main thread, else the first the adapter lists). */
  async pause(): Promise<void> {
    const body = await this.request('threads');
    const threads = Array.isArray(body.threads)
      ? (body.threads as { id: number; name?: string }[])
      : [];
    // The program runs in the main thread (a kernel has others of its own).
    const main = threads.find((t) => t.name === 'MainThread') ?? threads[0];
    const id = this.threadId ?? main?.id;
    if (typeof id === 'number') {
      await this.request('pause', { threadId: id });
    }
  }

  /** The stopped thread's call stack, innermost first. */
  async stack(): Promise<StackFrame[]> {
    if (this.threadId === null) {
      return [];
    }
    return framesOf(await this.request('stackTrace', { threadId: this.threadId }));
  }

  /** The scopes of a frame. */
  async scopes(frameId: number): Promise<Scope[]> {
    return scopesOf(await this.request('scopes', { frameId }));
  }

  /** The variables (children) behind a reference. */
  async variables(ref: number): Promise<Variable[]> {
    return variablesOf(await this.request('variables', { variablesReference: ref }));
  }

  /** Evaluate an expression in a frame ('watch' or 'repl'); return its value as text. */
  async evaluate(expression: string, frameId: number | null, context: string): Promise<string> {
    const body = await this.request('evaluate', {
      expression,
      context,
      ...(frameId === null ? {} : { frameId }),
    });
    return String(body.result ?? '');
  }

  /** Stop listening to the adapter. */
  dispose(): void {
    this.stopEvents();
    this.listeners.clear();
    this.eventListeners.clear();
  }
}
