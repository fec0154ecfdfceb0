/** Breakpoints per editor and the line the debugger stopped at, shared by editors and panel. */

/** Where the debugger is paused: an editor's key (a file path, or a cell's) and a line. */
export interface DebugLocation {
  key: string;
  line: number;
}

type Listener = () => void;

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

/** The breakpoints and the paused location; editors and the Debugger panel subscribe. */
export class DebugStore {
  private lines = new Map<string, number[]>();
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

  /** Replace an editor's breakpoints. */
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
    this.changed();
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
