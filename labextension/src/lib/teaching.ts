/** Live teaching's shapes: help requests and queues, AI transcripts; their parsers. */

export type HelpStatus = 'open' | 'resolved' | 'returned' | 'withdrawn';

/** One raised hand (GET/POST /ide/api/courses/<course>/help). */
export interface HelpRequest {
  id: number;
  student: string;
  message: string;
  path: string | null;
  line: number | null;
  status: HelpStatus;
  raisedAt: string;
  /** Seconds waited when the server answered (until closed, for closed ones). */
  waitingSeconds: number;
  /** The place in the queue (1: next), for open requests. */
  position: number | null;
  closedAt: string | null;
  closedBy: string | null;
  note: string | null;
}

/** The instructor's view: the open queue in order, and recently closed requests. */
export interface InstructorHelp {
  role: 'instructor';
  queue: HelpRequest[];
  closed: HelpRequest[];
}

/** A student's view: their own open request and place, their closed ones. */
export interface StudentHelp {
  role: 'student';
  open: HelpRequest | null;
  position: number | null;
  closed: HelpRequest[];
}

export type HelpView = InstructorHelp | StudentHelp;

/** The linked file of a request, as its student has it now. */
export interface HelpFile {
  student: string;
  path: string;
  line: number | null;
  content: string;
}

/** One AI exchange of a course. */
export interface Transcript {
  id: number;
  time: string;
  student: string;
  model: string;
  streamed: boolean;
  messages: { role: string; content: string }[];
  answer: string;
}

export interface Transcripts {
  course: string;
  student: string | null;
  retentionDays: number;
  transcripts: Transcript[];
}

const STATUSES: HelpStatus[] = ['open', 'resolved', 'returned', 'withdrawn'];

function record(data: unknown, what: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Error(`${what}: not an object`);
  }
  return data as Record<string, unknown>;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value ? value : null;
}

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Check one help request's shape. */
export function parseHelpRequest(data: unknown): HelpRequest {
  const raw = record(data, 'help request');
  const id = count(raw.id);
  if (id === null) {
    throw new Error('help request: no id');
  }
  return {
    id,
    student: String(raw.student ?? ''),
    message: String(raw.message ?? ''),
    path: text(raw.path),
    line: count(raw.line),
    status: STATUSES.includes(raw.status as HelpStatus) ? (raw.status as HelpStatus) : 'open',
    raisedAt: String(raw.raised_at ?? ''),
    waitingSeconds: count(raw.waiting_seconds) ?? 0,
    position: count(raw.position),
    closedAt: text(raw.closed_at),
    closedBy: text(raw.closed_by),
    note: text(raw.note),
  };
}

function requests(value: unknown): HelpRequest[] {
  return Array.isArray(value) ? value.map(parseHelpRequest) : [];
}

/** Check a help listing: the instructor's queue or the student's own requests. */
export function parseHelpView(data: unknown): HelpView {
  const raw = record(data, 'help');
  if (raw.role === 'instructor') {
    return { role: 'instructor', queue: requests(raw.queue), closed: requests(raw.closed) };
  }
  return {
    role: 'student',
    open: raw.open ? parseHelpRequest(raw.open) : null,
    position: count(raw.position),
    closed: requests(raw.closed),
  };
}

/** Check a linked file's shape. */
export function parseHelpFile(data: unknown): HelpFile {
  const raw = record(data, 'help file');
  return {
    student: String(raw.student ?? ''),
    path: String(raw.path ?? ''),
    line: count(raw.line),
    content: String(raw.content ?? ''),
  };
}

function messageText(content: unknown): string {
  if (typeof content === 'string') {
    return content;
  }
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === 'object' &&
        part !== null &&
        typeof (part as { text?: unknown }).text === 'string'
          ? (part as { text: string }).text
          : '',
      )
      .join('');
  }
  return '';
}

/** Check a transcripts answer. */
export function parseTranscripts(data: unknown): Transcripts {
  const raw = record(data, 'transcripts');
  const items = Array.isArray(raw.transcripts) ? raw.transcripts : [];
  return {
    course: String(raw.course ?? ''),
    student: text(raw.student),
    retentionDays: count(raw.retention_days) ?? 0,
    transcripts: items.map((item: unknown) => {
      const t = record(item, 'transcript');
      return {
        id: count(t.id) ?? 0,
        time: String(t.time ?? ''),
        student: String(t.student ?? ''),
        model: String(t.model ?? ''),
        streamed: t.streamed === true,
        messages: (Array.isArray(t.messages) ? t.messages : []).map((m: unknown) => {
          const message = record(m, 'message');
          return { role: String(message.role ?? ''), content: messageText(message.content) };
        }),
        answer: String(t.answer ?? ''),
      };
    }),
  };
}

/** A wait as people say it: "45 s", "3 min", "1 h 05 min". */
export function formatWaiting(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) {
    return `${s} s`;
  }
  const minutes = Math.floor(s / 60);
  if (minutes < 60) {
    return `${minutes} min`;
  }
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** The seconds a request has waited now, from what the server said and when it said it. */
export function waitedNow(request: HelpRequest, loadedAt: number, now: number): number {
  if (request.status !== 'open') {
    return request.waitingSeconds;
  }
  return request.waitingSeconds + Math.max(0, (now - loadedAt) / 1000);
}

/** The student's place, as a sentence. */
export function positionText(position: number | null): string {
  if (position === null) {
    return 'Your hand is not raised.';
  }
  if (position === 1) {
    return 'You are next in the queue.';
  }
  return `You are number ${position} in the queue (${position - 1} ahead of you).`;
}
