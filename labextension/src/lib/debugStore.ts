/** Breakpoints per editor and the line the debugger stopped at, shared by editors and panel. */

/** Where the debugger is paused: an editor's key (a file path, or a cell's) and a line. */
export interface DebugLocation {
  key: string;
  line: number;
}

type Listener = () => void;

/** What a breakpoint does besides stopping: DAP's optional SourceBreakpoint fields. */
export interface BreakpointOptions {
  /** Stop only when this expression is true. */
  condition?: string;
  /** Stop only when the hit count satisfies this (e.g. ``3`` or ``>= 3``). */
  hitCondition?: string;
  /** Print this (``{expr}`` interpolated) instead of stopping: a logpoint. */
  logMessage?: string;
}

/** The field of BreakpointOptions a person edits at one time. */
export type BreakpointOption = keyof BreakpointOptions;

/** A breakpoint as DAP's setBreakpoints takes it. */
export interface SourceBreakpoint extends BreakpointOptions {
  line: number;
}

/** Drop empty and blank fields: a breakpoint with none left is a plain one. */
export function cleanOptions(options: BreakpointOptions): BreakpointOptions {
  const clean: BreakpointOptions = {};
  for (const field of ['condition', 'hitCondition', 'logMessage'] as const) {
    const value = options[field]?.trim();
    if (value) {
      clean[field] = value;
    }
  }
  return clean;
}

function sameOptions(a: BreakpointOptions, b: BreakpointOptions): boolean {
  return (
    a.condition === b.condition &&
    a.hitCondition === b.hitCondition &&
    a.logMessage === b.logMessage
  );
}

/** A short text for a breakpoint's hover and the panel (what it waits for or prints). */
export function describeBreakpoint(options: BreakpointOptions): string {
  const parts: string[] = [];
  if (options.condition) {
    parts.push(`when ${options.condition}`);
  }
  if (options.hitCondition) {
    parts.push(`hit count ${options.hitCondition}`);
  }
  if (options.logMessage) {
    parts.push(`logs ${options.logMessage}`);
  }
  return parts.length ? `Breakpoint ${parts.join(', ')}` : 'Breakpoint';
}

/** The key of a notebook cell's editor: the notebook's path and the cell's id. */
export function cellKey(path: string, cellId: string): string {
  return `${path}#cell=${cellId}`;
}

/** Toggle ``line`` in a sorted list of lines; return a new sorted list. */
export function toggleLine(lines: readonly number[], line: number): number[] {
  return lines.includes(line)
    ? lines.filter((l) => l !== line)
    : [...lines, line].sort((a, b) => a - b);
}

/** The kinds a person can pick, in the order shown, with their placeholders. */
export const BREAKPOINT_KINDS: { field: BreakpointOption; label: string; hint: string }[] = [
  { field: 'condition', label: 'Expression', hint: 'Stop when this is true, e.g. i == 3' },
  { field: 'hitCondition', label: 'Hit count', hint: 'Stop on this hit, e.g. 3 or >= 3' },
  { field: 'logMessage', label: 'Log message', hint: 'Print this instead, e.g. i is {i}' },
];

/** The kind to show first for a breakpoint: the first it has, else a condition. */
export function firstKind(options: BreakpointOptions): BreakpointOption {
  return BREAKPOINT_KINDS.find((k) => options[k.field])?.field ?? 'condition';
}

/** The glyph's class: a plain breakpoint, a conditional one (◆) or a logpoint. */
export function breakpointClass(options: BreakpointOptions): string {
  if (options.logMessage) {
    return 'debug-breakpoint debug-logpoint';
  }
  if (options.condition || options.hitCondition) {
    return 'debug-breakpoint debug-breakpoint-conditional';
  }
  return 'debug-breakpoint';
}

/** The breakpoint capabilities an adapter's initialize response announces. */
export interface BreakpointSupport {
  supportsConditionalBreakpoints?: boolean;
  supportsHitConditionalBreakpoints?: boolean;
  supportsLogPoints?: boolean;
}

/** What an adapter's capabilities leave of a breakpoint list, and why the rest is not sent. */
export function supportedBreakpoints(
  breakpoints: SourceBreakpoint[],
  support: BreakpointSupport,
): { sent: SourceBreakpoint[]; notes: string[] } {
  const sent: SourceBreakpoint[] = [];
  const notes: string[] = [];
  for (const b of breakpoints) {
    const missing = [
      b.condition && !support.supportsConditionalBreakpoints ? 'conditions' : '',
      b.hitCondition && !support.supportsHitConditionalBreakpoints ? 'hit counts' : '',
      b.logMessage && !support.supportsLogPoints ? 'logpoints' : '',
    ].filter(Boolean);
    if (missing.length) {
      notes.push(
        `This debugger has no ${missing.join(' or ')}: the breakpoint on line ${b.line} is not set.`,
      );
    } else {
      sent.push(b);
    }
  }
  return { sent, notes };
}

/** The breakpoints and the paused location; editors and the Debugger panel subscribe. */
export class DebugStore {
  private lines = new Map<string, number[]>();
  /** Editor key -> line -> the options of a breakpoint that has any. */
  private extras = new Map<string, Map<number, BreakpointOptions>>();
  private current: DebugLocation | null = null;
  private listeners = new Set<Listener>();

  /** Call ``listener`` on every change; return what unsubscribes it. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.listeners.forEach((l) => l());
  }

  /** The breakpoint lines of one editor, sorted. */
  breakpoints(key: string): number[] {
    return this.lines.get(key) ?? [];
  }

  /** Every editor key that has breakpoints. */
  keys(): string[] {
    return [...this.lines.keys()];
  }

  /** Add or remove a breakpoint. */
  toggle(key: string, line: number): void {
    this.set(key, toggleLine(this.breakpoints(key), line));
  }

  /** Replace an editor's breakpoints (lines no longer there lose their options). */
  set(key: string, lines: number[]): void {
    const before = this.breakpoints(key);
    if (before.length === lines.length && before.every((l, i) => l === lines[i])) {
      return;
    }
    if (lines.length) {
      this.lines.set(key, lines);
    } else {
      this.lines.delete(key);
    }
    const extras = this.extras.get(key);
    for (const line of extras?.keys() ?? []) {
      if (!lines.includes(line)) {
        extras?.delete(line);
      }
    }
    if (extras?.size === 0) {
      this.extras.delete(key);
    }
    this.changed();
  }

  /** The options of the breakpoint at ``line`` ({} for a plain one or none). */
  options(key: string, line: number): BreakpointOptions {
    return this.extras.get(key)?.get(line) ?? {};
  }

  /** Set a breakpoint's options, adding the breakpoint when the line has none. */
  setOptions(key: string, line: number, options: BreakpointOptions): void {
    const clean = cleanOptions(options);
    const has = this.breakpoints(key).includes(line);
    if (has && sameOptions(clean, this.options(key, line))) {
      return;
    }
    const extras = this.extras.get(key) ?? new Map<number, BreakpointOptions>();
    if (Object.keys(clean).length) {
      extras.set(line, clean);
      this.extras.set(key, extras);
    } else {
      extras.delete(line);
      if (!extras.size) {
        this.extras.delete(key);
      }
    }
    if (has) {
      this.changed();
    } else {
      this.set(key, toggleLine(this.breakpoints(key), line));
    }
  }

  /** An editor's breakpoints as DAP's setBreakpoints takes them. */
  sourceBreakpoints(key: string): SourceBreakpoint[] {
    return this.breakpoints(key).map((line) => ({ line, ...this.options(key, line) }));
  }

  /** Where the debugger is paused, or null. */
  location(): DebugLocation | null {
    return this.current;
  }

  /** Set (or clear, with null) where the debugger is paused. */
  setLocation(location: DebugLocation | null): void {
    if (this.current?.key === location?.key && this.current?.line === location?.line) {
      return;
    }
    this.current = location;
    this.changed();
  }
}

/** The page's one store. */
export const debugStore = new DebugStore();
