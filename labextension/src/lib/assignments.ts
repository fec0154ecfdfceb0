/** Assignments as a student sees them (/ide/api/courses/<course>/assignments): shapes, states. */

export type Visibility = 'visible' | 'hidden' | 'after_due_date' | 'after_published';

/** A test the student may know about (the server leaves out the others). */
export interface AssignmentTest {
  name: string;
  points: number;
  visibility: string;
}

/** Files kept at a re-release because the student had changed them. */
export interface ReleaseNotice {
  kept: string[];
  message: string;
}

/** A stdin or file test as the instructor defined it (instructors' view only). */
export interface SpecTest {
  kind: 'file' | 'stdin';
  name: string;
  points: number;
  visibility: Visibility;
  path: string;
  program: string;
  stdin: string;
  expectedOutput: string;
  cpuSeconds: number;
  memoryKb: number;
}

/** One released assignment, with the student's own deadline (extension included). */
export interface Assignment {
  course: string;
  name: string;
  title: string;
  language: string | null;
  folder: string;
  files: string[];
  version: number;
  /** The version of the student's copy; null before they got one. */
  fetchedVersion: number | null;
  dueAt: string | null;
  extended: boolean;
  latePenaltyPercent: number;
  cutoffHours: number | null;
  maxSubmissions: number | null;
  windowSeconds: number | null;
  releasedAt: string | null;
  feedbackPublished: boolean;
  tests: AssignmentTest[];
  notice: ReleaseNotice | null;
  /** Manual rubric items (instructors' view only; empty for students). */
  rubric: { name: string; points: number }[];
  /** The instructor's folder it is made from (instructors' view only). */
  sourceFolder: string;
  /** The stdin and file tests (instructors' view only; notebook tests come from cells). */
  specTests: SpecTest[];
  /** Students' own deadlines: name -> ISO time (instructors' single-assignment view only). */
  extensions: Record<string, string>;
}

/** One test's result, as the server returns it to the student. */
export interface TestResult {
  name: string;
  score: number;
  maxScore: number;
  status: string;
  output: string;
  visibility: string;
}

export interface LineComment {
  path: string;
  line: number;
  text: string;
}

/** The grade the instructor released (null until feedback is published). */
export interface Feedback {
  score: number | null;
  maxScore: number | null;
  manual: Record<string, number>;
  comments: LineComment[];
}

/** One of the student's own submissions. */
export interface AssignmentSubmission {
  id: number;
  createdAt: string;
  files: string[];
  status: string;
  error: string | null;
  results: TestResult[];
  visibleScore: number;
  visibleMaxScore: number;
  lateDays: number | null;
  penaltyPercent: number | null;
  feedback: Feedback | null;
}

/** What a fetch wrote into the workspace, and which changed files it kept. */
export interface FetchResult {
  folder: string;
  version: number;
  written: string[];
  kept: Record<string, number>;
}

/** What reopening a submission put back. */
export interface ReopenResult {
  folder: string;
  restored: string[];
  submission: number;
}

function asObject(data: unknown, what: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Error(`${what}: not an object`);
  }
  return data as Record<string, unknown>;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' && value ? value : null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function number(value: unknown): number {
  return numberOrNull(value) ?? 0;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function list<T>(value: unknown, parse: (item: unknown) => T): T[] {
  return Array.isArray(value) ? value.map(parse) : [];
}

/** Read one assignment as the student sees it; an answer without a name is refused. */
export function parseAssignment(data: unknown): Assignment {
  const raw = asObject(data, 'assignment');
  const name = textOrNull(raw.name);
  if (!name) {
    throw new Error('assignment: no name');
  }
  const notice =
    typeof raw.notice === 'object' && raw.notice !== null
      ? (raw.notice as Record<string, unknown>)
      : null;
  return {
    course: text(raw.course),
    name,
    title: text(raw.title),
    language: textOrNull(raw.language),
    folder: text(raw.folder),
    files: strings(raw.files),
    version: number(raw.version),
    fetchedVersion: numberOrNull(raw.fetched_version),
    dueAt: textOrNull(raw.due_at),
    extended: raw.extended === true,
    latePenaltyPercent: number(raw.late_penalty_percent),
    cutoffHours: numberOrNull(raw.cutoff_hours),
    maxSubmissions: numberOrNull(raw.max_submissions),
    windowSeconds: numberOrNull(raw.window_seconds),
    releasedAt: textOrNull(raw.released_at),
    feedbackPublished: raw.feedback_published === true,
    tests: list(raw.tests, (item) => {
      const t = asObject(item, 'test');
      return { name: text(t.name), points: number(t.points), visibility: text(t.visibility) };
    }),
    notice: notice ? { kept: strings(notice.kept), message: text(notice.message) } : null,
    rubric: list(raw.rubric, (item) => {
      const r = asObject(item, 'rubric item');
      return { name: text(r.name), points: number(r.points) };
    }),
    sourceFolder: text(raw.source_folder),
    specTests: parseSpecTests(raw.spec),
    extensions: parseExtensions(raw.extensions),
  };
}

const VISIBILITIES: Visibility[] = ['visible', 'hidden', 'after_due_date', 'after_published'];

function parseSpecTests(spec: unknown): SpecTest[] {
  if (typeof spec !== 'object' || spec === null) {
    return [];
  }
  const tests = list((spec as Record<string, unknown>).tests, (item) => asObject(item, 'test'));
  return tests
    .filter((t) => t.kind === 'file' || t.kind === 'stdin')
    .map((t): SpecTest => {
      const limits =
        typeof t.limits === 'object' && t.limits !== null
          ? (t.limits as Record<string, unknown>)
          : {};
      const visibility = VISIBILITIES.find((v) => v === t.visibility) ?? 'visible';
      return {
        kind: t.kind === 'file' ? 'file' : 'stdin',
        name: text(t.name),
        points: number(t.points),
        visibility,
        path: text(t.path),
        program: text(t.program),
        stdin: text(t.stdin),
        expectedOutput: text(t.expected_output),
        cpuSeconds: numberOrNull(limits.cpu_seconds) ?? 5,
        memoryKb: numberOrNull(limits.memory_kb) ?? 262144,
      };
    });
}

function parseExtensions(data: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    for (const [student, due] of Object.entries(data as Record<string, unknown>)) {
      if (typeof due === 'string') {
        out[student] = due;
      }
    }
  }
  return out;
}

/** Read a list of assignments. */
export function parseAssignments(data: unknown): Assignment[] {
  return list(asObject(data, 'assignments').assignments, parseAssignment);
}

function parseResult(data: unknown): TestResult {
  const raw = asObject(data, 'result');
  return {
    name: text(raw.name),
    score: number(raw.score),
    maxScore: number(raw.max_score),
    status: text(raw.status),
    output: text(raw.output),
    visibility: text(raw.visibility),
  };
}

function parseFeedback(data: unknown): Feedback | null {
  if (typeof data !== 'object' || data === null) {
    return null;
  }
  const raw = data as Record<string, unknown>;
  const manual: Record<string, number> = {};
  if (typeof raw.manual === 'object' && raw.manual !== null) {
    for (const [item, points] of Object.entries(raw.manual as Record<string, unknown>)) {
      manual[item] = number(points);
    }
  }
  return {
    score: numberOrNull(raw.score),
    maxScore: numberOrNull(raw.max_score),
    manual,
    comments: list(raw.comments, (item) => {
      const c = asObject(item, 'comment');
      return { path: text(c.path), line: number(c.line), text: text(c.text) };
    }),
  };
}

/** Read one submission as its student sees it; one without an id is refused. */
export function parseSubmission(data: unknown): AssignmentSubmission {
  const raw = asObject(data, 'submission');
  const id = raw.id;
  if (typeof id !== 'number' || !Number.isInteger(id)) {
    throw new Error('submission: no id');
  }
  return {
    id,
    createdAt: text(raw.created_at),
    files: strings(raw.files),
    status: text(raw.status),
    error: textOrNull(raw.error),
    results: list(raw.results, parseResult),
    visibleScore: number(raw.visible_score),
    visibleMaxScore: number(raw.visible_max_score),
    lateDays: numberOrNull(raw.late_days),
    penaltyPercent: numberOrNull(raw.penalty_percent),
    feedback: parseFeedback(raw.feedback),
  };
}

/** Read a list of submissions (newest first, as the server orders them). */
export function parseSubmissions(data: unknown): AssignmentSubmission[] {
  return list(asObject(data, 'submissions').submissions, parseSubmission);
}

/** Read a fetch's answer. */
export function parseFetch(data: unknown): FetchResult {
  const raw = asObject(data, 'fetch');
  const kept: Record<string, number> = {};
  if (typeof raw.kept === 'object' && raw.kept !== null) {
    for (const [path, version] of Object.entries(raw.kept as Record<string, unknown>)) {
      kept[path] = number(version);
    }
  }
  return {
    folder: text(raw.folder),
    version: number(raw.version),
    written: strings(raw.written),
    kept,
  };
}

/** Read a reopen's answer. */
export function parseReopen(data: unknown): ReopenResult {
  const raw = asObject(data, 'reopen');
  return {
    folder: text(raw.folder),
    restored: strings(raw.restored),
    submission: number(raw.submission),
  };
}

export type AssignmentState = 'not-fetched' | 'update' | 'open' | 'late' | 'closed';

export const STATE_LABELS: Record<AssignmentState, string> = {
  'not-fetched': 'Not fetched yet',
  update: 'New version released',
  open: 'Open',
  late: 'Past due (late penalty)',
  closed: 'Closed',
};

/** Where the student stands with an assignment at ``now``. */
export function assignmentState(a: Assignment, now: Date): AssignmentState {
  const due = a.dueAt ? Date.parse(a.dueAt) : NaN;
  if (!Number.isNaN(due) && a.cutoffHours !== null && now.getTime() > due + a.cutoffHours * 3.6e6) {
    return 'closed';
  }
  if (a.fetchedVersion === null) {
    return 'not-fetched';
  }
  if (a.fetchedVersion < a.version) {
    return 'update';
  }
  return !Number.isNaN(due) && now.getTime() > due ? 'late' : 'open';
}

/** Whether a submission is still waiting for its grade. */
export function isPending(s: AssignmentSubmission): boolean {
  return s.status === 'queued' || s.status === 'grading';
}

/** The course's gradebook: each student's score per assignment (null: nothing graded). */
export interface Gradebook {
  assignments: string[];
  maxScores: Record<string, number>;
  students: { student: string; scores: Record<string, number | null> }[];
}

/** Read a gradebook answer. */
export function parseGradebook(data: unknown): Gradebook {
  const raw = asObject(data, 'gradebook');
  const maxScores: Record<string, number> = {};
  if (typeof raw.max_scores === 'object' && raw.max_scores !== null) {
    for (const [name, points] of Object.entries(raw.max_scores as Record<string, unknown>)) {
      maxScores[name] = number(points);
    }
  }
  return {
    assignments: strings(raw.assignments),
    maxScores,
    students: list(raw.students, (item) => {
      const row = asObject(item, 'gradebook row');
      const scores: Record<string, number | null> = {};
      if (typeof row.scores === 'object' && row.scores !== null) {
        for (const [name, score] of Object.entries(row.scores as Record<string, unknown>)) {
          scores[name] = numberOrNull(score);
        }
      }
      return { student: text(row.student), scores };
    }),
  };
}

/** A release's outcome: who got files, and who could not be given them (and why). */
export interface ReleaseReport {
  version: number;
  given: string[];
  failed: { student: string; error: string }[];
}

/** Read a release's answer. */
export function parseRelease(data: unknown): ReleaseReport {
  const raw = asObject(data, 'release');
  const students =
    typeof raw.students === 'object' && raw.students !== null
      ? (raw.students as Record<string, unknown>)
      : {};
  const given: string[] = [];
  const failed: { student: string; error: string }[] = [];
  for (const [student, outcome] of Object.entries(students)) {
    const error =
      typeof outcome === 'object' && outcome !== null
        ? textOrNull((outcome as Record<string, unknown>).error)
        : null;
    if (error) {
      failed.push({ student, error });
    } else {
      given.push(student);
    }
  }
  return { version: number(raw.version), given: given.sort(), failed };
}

/** The languages an assignment may be graded in (the server's list). */
export const ASSIGNMENT_LANGUAGES = [
  'python',
  'c',
  'cpp',
  'java',
  'javascript',
  'go',
  'rust',
  'bash',
] as const;

/** A submission as its instructor sees it: every test, manual points, the whole score. */
export interface GradedSubmission {
  id: number;
  student: string;
  createdAt: string;
  files: string[];
  status: string;
  error: string | null;
  results: TestResult[];
  manualPoints: Record<string, number>;
  comments: LineComment[];
  lateDays: number | null;
  score: number | null;
  maxScore: number | null;
}

/** Read one submission of the instructor's view. */
export function parseGradedSubmission(data: unknown): GradedSubmission {
  const raw = asObject(data, 'submission');
  const base = parseSubmission(raw);
  const manual =
    typeof raw.manual === 'object' && raw.manual !== null
      ? (raw.manual as Record<string, unknown>)
      : {};
  const feedback = parseFeedback({ manual: manual.points, comments: manual.comments });
  return {
    id: base.id,
    student: text(raw.student),
    createdAt: base.createdAt,
    files: base.files,
    status: base.status,
    error: base.error,
    results: base.results,
    manualPoints: feedback?.manual ?? {},
    comments: feedback?.comments ?? [],
    lateDays: base.lateDays,
    score: numberOrNull(raw.score),
    maxScore: numberOrNull(raw.max_score),
  };
}

/** Read the instructor's list of submissions. */
export function parseGradedSubmissions(data: unknown): GradedSubmission[] {
  return list(asObject(data, 'submissions').submissions, parseGradedSubmission);
}

/** A kept starter file's three versions, to merge (base is null when it cannot be read). */
export interface MergeVersions {
  path: string;
  folder: string;
  version: number;
  base: string | null;
  theirs: string;
  theirsHash: string;
  next: string;
}

/** Read a merge view's answer. */
export function parseMerge(data: unknown): MergeVersions {
  const raw = asObject(data, 'merge');
  return {
    path: text(raw.path),
    folder: text(raw.folder),
    version: number(raw.version),
    base: typeof raw.base === 'string' ? raw.base : null,
    theirs: text(raw.theirs),
    theirsHash: text(raw.theirs_hash),
    next: text(raw.new),
  };
}

/** How a kept file is settled. */
export type MergeChoice = 'theirs' | 'new' | 'merged';

/** What settling a kept file did. */
export interface MergeResult {
  path: string;
  folder: string;
  written: boolean;
  kept: string[];
}

/** Read a settle's answer. */
export function parseMergeResult(data: unknown): MergeResult {
  const raw = asObject(data, 'merge result');
  return {
    path: text(raw.path),
    folder: text(raw.folder),
    written: raw.written === true,
    kept: strings(raw.kept),
  };
}

/** A student's extension as the server answers a grant. */
export interface ExtensionGrant {
  student: string;
  dueAt: string | null;
  rescored: number;
}

/** Read an extension's answer. */
export function parseExtension(data: unknown): ExtensionGrant {
  const raw = asObject(data, 'extension');
  return {
    student: text(raw.student),
    dueAt: textOrNull(raw.due_at),
    rescored: number(raw.rescored),
  };
}
