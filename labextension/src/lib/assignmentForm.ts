/** The instructor's assignment form (create and edit): what people type, and the API body. */
import type { Assignment, SpecTest, Visibility } from './assignments';

export const VISIBILITY_LABELS: Record<Visibility, string> = {
  visible: 'visible',
  hidden: 'hidden',
  after_due_date: 'after the due date',
  after_published: 'after feedback is released',
};

/** One stdin or file test as the form holds it (numbers still as typed). */
export interface TestDraft {
  kind: 'file' | 'stdin';
  name: string;
  points: string;
  visibility: Visibility;
  /** file: the instructor's test file (never released). */
  path: string;
  /** stdin: the file run with the input. */
  program: string;
  stdin: string;
  expectedOutput: string;
  cpuSeconds: string;
  memoryMb: string;
}

export interface RubricDraft {
  name: string;
  points: string;
}

/** The whole form. */
export interface AssignmentDraft {
  name: string;
  title: string;
  folder: string;
  language: string;
  /** A datetime-local value (the browser's local time), or empty for no deadline. */
  due: string;
  latePenaltyPercent: string;
  /** Hours after the deadline when submissions stop; empty: never. */
  cutoffHours: string;
  /** Submissions per window; empty or 0: no limit. */
  maxSubmissions: string;
  windowMinutes: string;
  tests: TestDraft[];
  rubric: RubricDraft[];
  /** Edit only: read the folder again (a new version when starter files changed). */
  refresh: boolean;
}

export const EMPTY_DRAFT: AssignmentDraft = {
  name: '',
  title: '',
  folder: '',
  language: 'python',
  due: '',
  latePenaltyPercent: '',
  cutoffHours: '',
  maxSubmissions: '',
  windowMinutes: '1440',
  tests: [],
  rubric: [],
  refresh: false,
};

/** A new, empty test of a kind. */
export function newTest(kind: 'file' | 'stdin'): TestDraft {
  return {
    kind,
    name: '',
    points: '1',
    visibility: 'visible',
    path: '',
    program: '',
    stdin: '',
    expectedOutput: '',
    cpuSeconds: '5',
    memoryMb: '256',
  };
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** An ISO time as a datetime-local value in the browser's time zone ('' for none). */
export function localInput(iso: string | null): string {
  if (!iso) {
    return '';
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    return '';
  }
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`
  );
}

function numberText(n: number | null | undefined): string {
  return n === null || n === undefined ? '' : String(Math.round(n * 1000) / 1000);
}

function testDraft(t: SpecTest): TestDraft {
  return {
    kind: t.kind,
    name: t.name,
    points: numberText(t.points),
    visibility: t.visibility,
    path: t.path,
    program: t.program,
    stdin: t.stdin,
    expectedOutput: t.expectedOutput,
    cpuSeconds: numberText(t.cpuSeconds),
    memoryMb: numberText(t.memoryKb / 1024),
  };
}

/** The form filled with an assignment, to edit it. */
export function draftOf(a: Assignment): AssignmentDraft {
  return {
    name: a.name,
    title: a.title,
    folder: a.sourceFolder,
    language: a.language ?? 'python',
    due: localInput(a.dueAt),
    latePenaltyPercent: numberText(a.latePenaltyPercent),
    cutoffHours: numberText(a.cutoffHours),
    maxSubmissions: a.maxSubmissions ? String(a.maxSubmissions) : '',
    windowMinutes: numberText((a.windowSeconds ?? 86_400) / 60),
    tests: a.specTests.map(testDraft),
    rubric: a.rubric.map((r) => ({ name: r.name, points: numberText(r.points) })),
    refresh: false,
  };
}

type Made<T> = { value: T } | { error: string };

function parseNumber(text: string, what: string, whole = false): Made<number | null> {
  if (!text.trim()) {
    return { value: null };
  }
  const n = Number(text);
  if (!Number.isFinite(n) || (whole && !Number.isInteger(n))) {
    return { error: `${what} must be ${whole ? 'a whole number' : 'a number'}.` };
  }
  return { value: n };
}

/** The tests as the API takes them, or the first thing wrong with one. */
export function testsBody(tests: TestDraft[]): Made<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const [i, t] of tests.entries()) {
    const where = `Test ${i + 1}${t.name.trim() ? ` (${t.name.trim()})` : ''}`;
    if (!t.name.trim()) {
      return { error: `${where} needs a name.` };
    }
    const points = parseNumber(t.points, `${where}: points`);
    const cpu = parseNumber(t.cpuSeconds, `${where}: the time limit`);
    const memory = parseNumber(t.memoryMb, `${where}: the memory limit`);
    for (const made of [points, cpu, memory]) {
      if ('error' in made) {
        return made;
      }
    }
    const body: Record<string, unknown> = {
      kind: t.kind,
      name: t.name.trim(),
      points: 'value' in points && points.value !== null ? points.value : 1,
      visibility: t.visibility,
    };
    if (t.kind === 'file') {
      if (!t.path.trim()) {
        return { error: `${where}: name the test file in the folder.` };
      }
      body.path = t.path.trim();
    } else {
      if (!t.program.trim()) {
        return { error: `${where}: name the file that is run.` };
      }
      body.program = t.program.trim();
      body.stdin = t.stdin;
      body.expected_output = t.expectedOutput;
    }
    const limits: Record<string, number> = {};
    if ('value' in cpu && cpu.value !== null) {
      limits.cpu_seconds = cpu.value;
    }
    if ('value' in memory && memory.value !== null) {
      limits.memory_kb = Math.round(memory.value * 1024);
    }
    if (Object.keys(limits).length) {
      body.limits = limits;
    }
    out.push(body);
  }
  return { value: out };
}

/** The rubric as the API takes it. */
function rubricBody(rubric: RubricDraft[]): Made<{ name: string; points: number }[]> {
  const out = [];
  for (const [i, r] of rubric.entries()) {
    if (!r.name.trim()) {
      return { error: `Rubric item ${i + 1} needs a name.` };
    }
    const points = parseNumber(r.points, `Rubric item ${r.name.trim()}: points`);
    if ('error' in points) {
      return points;
    }
    out.push({ name: r.name.trim(), points: points.value ?? 0 });
  }
  return { value: out };
}

/**
 * The request body from the form, or the reason it cannot be sent.
 *
 * ``initial`` (edit): the form as it was opened; the folder is read again (with the tests)
 * only when the tests changed or ``refresh`` is ticked, so moving a deadline never
 * re-reads the folder.
 */
export function assignmentBody(
  draft: AssignmentDraft,
  initial?: AssignmentDraft,
): { body: Record<string, unknown> } | { error: string } {
  const editing = initial !== undefined;
  const body: Record<string, unknown> = {};
  if (!editing) {
    body.name = draft.name.trim();
    body.folder = draft.folder.trim();
    body.language = draft.language;
    if (!body.name || !body.folder) {
      return { error: 'Give the assignment a name and the folder it is made from.' };
    }
  }
  if (draft.title.trim() || editing) {
    body.title = draft.title.trim() || draft.name.trim();
  }
  if (draft.due) {
    const due = new Date(draft.due);
    if (Number.isNaN(due.getTime())) {
      return { error: 'The due date is not a date.' };
    }
    body.due_at = due.toISOString();
  } else if (editing) {
    body.due_at = null;
  }
  const penalty = parseNumber(draft.latePenaltyPercent, 'The late penalty (% a day)');
  const cutoff = parseNumber(draft.cutoffHours, 'The cut-off (hours after the deadline)');
  const most = parseNumber(draft.maxSubmissions, 'Submissions per window', true);
  const window = parseNumber(draft.windowMinutes, 'The window (minutes)');
  for (const made of [penalty, cutoff, most, window]) {
    if ('error' in made) {
      return made;
    }
  }
  if ('value' in penalty && (penalty.value !== null || editing)) {
    body.late_penalty_percent = penalty.value ?? 0;
  }
  if ('value' in cutoff && (cutoff.value !== null || editing)) {
    body.cutoff_hours = cutoff.value;
  }
  if ('value' in most && (most.value !== null || editing)) {
    body.max_submissions = most.value ?? 0;
  }
  if ('value' in window && window.value !== null) {
    body.window_seconds = Math.round(window.value * 60);
  }
  const rubric = rubricBody(draft.rubric);
  if ('error' in rubric) {
    return rubric;
  }
  if (rubric.value.length || editing) {
    body.rubric = rubric.value;
  }
  const tests = testsBody(draft.tests);
  if ('error' in tests) {
    return tests;
  }
  if (!editing) {
    if (tests.value.length) {
      body.tests = tests.value;
    }
    return { body };
  }
  const before = testsBody(initial.tests);
  const changed = 'error' in before || JSON.stringify(before.value) !== JSON.stringify(tests.value);
  if (changed || draft.refresh || draft.language !== initial.language) {
    body.refresh = true;
    body.tests = tests.value;
    body.language = draft.language;
  }
  return { body };
}
