/** The live view's shapes and parsers, its socket addresses, and who views the student now. */

/** A member of a course, as the live view lists them (``open``: files in an editor now). */
export interface LiveMember {
  name: string;
  role: string;
  open: string[];
}

/** A file or folder of a member's workspace. */
export interface LiveEntry {
  path: string;
  kind: 'file' | 'directory';
  size: number;
  modified: string | null;
}

/** One of a member's last runs, with its output. */
export interface LiveRun {
  token: string;
  language: string;
  status: string;
  createdAt: string | null;
  source: string | null;
  stdin: string | null;
  stdout: string | null;
  stderr: string | null;
  compileOutput: string | null;
  exitCode: number | null;
}

/** What a live file view opens: whose file, which, and the line to show (optional). */
export interface LiveTarget {
  course: string;
  student: string;
  path: string;
  line: number | null;
}

function obj(data: unknown, what: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Error(`The server sent no ${what}`);
  }
  return data as Record<string, unknown>;
}

function arr(data: unknown): unknown[] {
  return Array.isArray(data) ? data : [];
}

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function strings(value: unknown): string[] {
  return arr(value).filter((v): v is string => typeof v === 'string');
}

export function parseLiveMembers(data: unknown): LiveMember[] {
  return arr(obj(data, 'members').members).map((m) => {
    const raw = obj(m, 'member');
    return { name: String(raw.name ?? ''), role: String(raw.role ?? ''), open: strings(raw.open) };
  });
}

export function parseLiveFiles(data: unknown): { files: LiveEntry[]; open: string[] } {
  const raw = obj(data, 'file list');
  const files = arr(raw.files).map((f) => {
    const item = obj(f, 'file');
    return {
      path: String(item.path ?? ''),
      kind: item.kind === 'directory' ? ('directory' as const) : ('file' as const),
      size: typeof item.size === 'number' ? item.size : 0,
      modified: textOrNull(item.modified),
    };
  });
  return { files, open: strings(raw.open) };
}

export function parseLiveRuns(data: unknown): LiveRun[] {
  return arr(obj(data, 'runs').runs).map((r) => {
    const raw = obj(r, 'run');
    return {
      token: String(raw.token ?? ''),
      language: String(raw.language ?? ''),
      status: String(raw.status ?? ''),
      createdAt: textOrNull(raw.created_at),
      source: textOrNull(raw.source),
      stdin: textOrNull(raw.stdin),
      stdout: textOrNull(raw.stdout),
      stderr: textOrNull(raw.stderr),
      compileOutput: textOrNull(raw.compile_output),
      exitCode: typeof raw.exit_code === 'number' ? raw.exit_code : null,
    };
  });
}

/** The files of a workspace listing, folders left out, hidden files never there. */
export function liveFilePaths(entries: LiveEntry[]): string[] {
  return entries.filter((e) => e.kind === 'file').map((e) => e.path);
}

/** The socket of a room: the caller's own file (no student) or a member's, under the API. */
export function liveSocket(
  wsBase: string,
  room: { course: string; student: string } | null,
): { server: string; room: string } {
  const base = wsBase.endsWith('/') ? wsBase : `${wsBase}/`;
  if (!room) {
    return { server: `${base}ide/api/classroom/live`, room: 'socket' };
  }
  const course = encodeURIComponent(room.course);
  const student = encodeURIComponent(room.student);
  return { server: `${base}ide/api/classroom/${course}/live/${student}`, room: 'socket' };
}

/** Who the rooms' awareness says is viewing (the server puts ``{viewers}`` in its own state). */
export function viewersIn(states: Iterable<unknown>): string[] {
  const found = new Set<string>();
  for (const state of states) {
    if (typeof state === 'object' && state !== null && 'viewers' in state) {
      for (const name of strings((state as { viewers: unknown }).viewers)) {
        found.add(name);
      }
    }
  }
  return [...found].sort();
}

/** A live view's connection: connecting, connected, synced with the room, failed or closed. */
export type LiveState = 'connecting' | 'connected' | 'synced' | 'failed' | 'closed';

/** The words a live view's header shows for its connection. */
export function liveStatusLabel(state: LiveState, writable: boolean): string {
  if (state === 'failed') return 'could not connect';
  if (state === 'synced') return writable ? 'live, pair editing' : 'live';
  return 'connecting…';
}

/** The notice a student reads while someone views their workspace ("" when no one does). */
export function viewingNotice(viewers: string[], partner: string | null = null): string {
  const together =
    partner && viewers.includes(partner) ? `Your partner ${partner} is editing with you live.` : '';
  const others = viewers.filter((v) => v !== partner);
  if (others.length === 0) {
    return together;
  }
  const names =
    others.length === 1
      ? others[0]
      : `${others.slice(0, -1).join(', ')} and ${others[others.length - 1]}`;
  const watching = `Your instructor ${names} ${others.length === 1 ? 'is' : 'are'} viewing your work live.`;
  return together ? `${together} ${watching}` : watching;
}

type Listener = (viewers: string[]) => void;

/** Who views the student now, from every room of theirs this page has open. */
export class ViewerBoard {
  private readonly rooms = new Map<number, string[]>();
  private readonly listeners = new Set<Listener>();
  private next = 0;

  /** A room's slot: call ``set`` with its viewers, ``drop`` when it closes. */
  slot(): { set: (viewers: string[]) => void; drop: () => void } {
    const id = this.next++;
    return {
      set: (viewers) => {
        this.rooms.set(id, viewers);
        this.emit();
      },
      drop: () => {
        this.rooms.delete(id);
        this.emit();
      },
    };
  }

  viewers(): string[] {
    return viewersIn([...this.rooms.values()].map((viewers) => ({ viewers })));
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.viewers());
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    const now = this.viewers();
    this.listeners.forEach((l) => l(now));
  }
}

/** The page's board. */
export const viewerBoard = new ViewerBoard();
