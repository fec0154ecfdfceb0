/** The activity timeline, replay and lab dashboard: shapes, parsers and the edit counter. */

/** One entry of a student's timeline. */
export interface TimelineEvent {
  kind: 'edit' | 'save' | 'paste' | 'run' | 'submission' | 'ai' | string;
  time: string;
  path: string | null;
  end: string | null;
  edits: number | null;
  size: number | null;
  source: string | null;
  verdict: string | null;
  assignment: string | null;
  status: string | null;
  score: number | null;
  model: string | null;
  tokens: number | null;
  /** A run's way: 'judge' (a judge run) or 'kernel' (a cell or file run in a kernel). */
  via: string | null;
  kernel: string | null;
  cellIndex: number | null;
  codeHead: string | null;
}

/** A student's timeline in a course. */
export interface Timeline {
  course: string;
  student: string;
  path: string | null;
  events: TimelineEvent[];
}

/** One saved version of a file, for the replay scrubber. */
export interface ReplayVersion {
  n: number;
  hash: string;
  size: number;
  time: string | null;
  reason: string;
  current: boolean;
}

/** One student's row on the lab dashboard. */
export interface DashboardRow {
  student: string;
  online: boolean;
  seenAt: string | null;
  path: string | null;
  lastRun: string | null;
  lastRunOk: boolean | null;
  failingTests: number | null;
  tests: number | null;
  handRaised: boolean;
  aiRequests: number;
}

/** The lab dashboard of a course. */
export interface LabDashboard {
  course: string;
  assignment: string | null;
  students: DashboardRow[];
  online: number;
  hands: number;
}

/** How often an open timeline asks whether anything new happened (a 304 when not). */
export const TIMELINE_POLL_MS = 3000;
/** How often the dashboard asks again (a short poll: see Dashboard.tsx). */
export const DASHBOARD_POLL_MS = 5000;
/** How often /ide says where the student is (the dashboard's "online"). */
export const PRESENCE_MS = 20000;
/** Edits are reported once typing pauses this long (or every EDIT_MAX_MS while it goes on). */
export const EDIT_QUIET_MS = 2000;
export const EDIT_MAX_MS = 10000;

function obj(data: unknown): Record<string, unknown> {
  return data !== null && typeof data === 'object' && !Array.isArray(data)
    ? (data as Record<string, unknown>)
    : {};
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Read a timeline answer; entries without a kind or time are left out. */
export function parseTimeline(data: unknown): Timeline {
  const raw = obj(data);
  const events = list(raw.events).flatMap((item): TimelineEvent[] => {
    const e = obj(item);
    const kind = str(e.kind);
    const time = str(e.time);
    if (!kind || !time) {
      return [];
    }
    return [
      {
        kind,
        time,
        path: str(e.path),
        end: str(e.end),
        edits: num(e.edits),
        size: num(e.size),
        source: str(e.source),
        verdict: str(obj(e.verdict).description),
        assignment: str(e.assignment),
        status: str(e.status),
        score: num(e.score),
        model: str(e.model),
        tokens: num(e.tokens),
        via: str(e.via),
        kernel: str(e.kernel),
        cellIndex: num(e.cell_index),
        codeHead: str(e.code_head),
      },
    ];
  });
  return {
    course: str(raw.course) ?? '',
    student: str(raw.student) ?? '',
    path: str(raw.path),
    events,
  };
}

/** Read the versions of a file to replay, oldest first. */
export function parseVersions(data: unknown): ReplayVersion[] {
  return list(obj(data).versions).flatMap((item): ReplayVersion[] => {
    const v = obj(item);
    const hash = str(v.hash);
    if (!hash) {
      return [];
    }
    return [
      {
        n: num(v.n) ?? 0,
        hash,
        size: num(v.size) ?? 0,
        time: str(v.time),
        reason: str(v.reason) ?? '',
        current: v.current === true,
      },
    ];
  });
}

/** Read a lab dashboard answer. */
export function parseDashboard(data: unknown): LabDashboard {
  const raw = obj(data);
  const students = list(raw.students).flatMap((item): DashboardRow[] => {
    const r = obj(item);
    const student = str(r.student);
    if (!student) {
      return [];
    }
    const run = obj(r.last_run);
    const runId = num(run.id);
    return [
      {
        student,
        online: r.online === true,
        seenAt: str(r.seen_at),
        path: str(r.path),
        lastRun: str(run.description),
        lastRunOk: typeof run.ok === 'boolean' ? run.ok : runId === null ? null : runId === 3,
        failingTests: num(r.failing_tests),
        tests: num(r.tests),
        handRaised: r.hand_raised === true,
        aiRequests: num(r.ai_requests_10m) ?? 0,
      },
    ];
  });
  const totals = obj(raw.totals);
  return {
    course: str(raw.course) ?? '',
    assignment: str(raw.assignment),
    students,
    online: num(totals.online) ?? students.filter((s) => s.online).length,
    hands: num(totals.hands) ?? students.filter((s) => s.handRaised).length,
  };
}

/** A short line saying what a timeline entry was. */
export function describeEvent(e: TimelineEvent): string {
  switch (e.kind) {
    case 'edit':
      return `edited (${e.edits ?? 0} changes, ${e.size ?? 0} characters)`;
    case 'save':
      return `saved (${e.size ?? 0} bytes)`;
    case 'paste':
      return e.source
        ? `pasted ${e.size ?? 0} characters from ${e.source}`
        : `pasted ${e.size ?? 0} characters from outside the workspace`;
    case 'run':
      if (e.via === 'kernel') {
        const what = e.cellIndex !== null ? `cell ${e.cellIndex + 1}` : 'code';
        return `ran ${what} in ${e.kernel || 'a kernel'}: ${e.verdict ?? 'unknown'}`;
      }
      return `ran: ${e.verdict ?? 'unknown'}`;
    case 'submission':
      return `submitted ${e.assignment ?? ''}: ${e.status ?? ''}${
        e.score !== null ? ` (${e.score})` : ''
      }`;
    case 'ai':
      return `asked the AI (${e.model ?? ''}, ${e.tokens ?? 0} tokens)`;
    default:
      return e.kind;
  }
}

/** One edit report: how many changes and characters since the last. */
export interface EditReport {
  edits: number;
  chars: number;
  /** How long ago the first of them was made (ms), so the burst is placed where it began. */
  age_ms: number;
}

/** Count edits between reports; a report is due once typing pauses or has gone on long. */
export class EditCounter {
  private edits = 0;
  private chars = 0;
  private first: number | null = null;
  private last = 0;

  /** Count one content change of ``chars`` inserted characters at ``now`` (ms). */
  add(chars: number, now: number): void {
    this.edits += 1;
    this.chars += Math.max(0, chars);
    this.first ??= now;
    this.last = now;
  }

  /** Take back one change of ``chars`` characters (a paste: it is reported as a paste). */
  forget(chars: number): void {
    if (this.edits > 0) {
      this.edits -= 1;
      this.chars = Math.max(0, this.chars - chars);
    }
  }

  /** Whether a report is due at ``now``. */
  due(now: number): boolean {
    if (this.first === null) {
      return false;
    }
    return now - this.last >= EDIT_QUIET_MS || now - this.first >= EDIT_MAX_MS;
  }

  /** Return what was counted by ``now`` (null for nothing) and start again. */
  take(now: number): EditReport | null {
    if (this.edits === 0) {
      return null;
    }
    const age = Math.min(600000, Math.max(0, Math.round(now - (this.first ?? now))));
    const report = { edits: this.edits, chars: this.chars, age_ms: age };
    this.edits = 0;
    this.chars = 0;
    this.first = null;
    return report;
  }
}
