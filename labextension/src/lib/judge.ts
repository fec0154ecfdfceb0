/** Run and Tests through the Judge0-compatible API: languages, verdicts, test cases, diffs. */
import { diffLines } from 'diff';
import { base64ToBytes, bytesToBase64 } from './download';
import { baseName, dirName, joinPath } from './languages';

/** Judge0 CE language ids, by file extension. */
const LANGUAGES: Record<string, { id: number; name: string }> = {
  c: { id: 50, name: 'C' },
  cpp: { id: 54, name: 'C++' },
  cc: { id: 54, name: 'C++' },
  cxx: { id: 54, name: 'C++' },
  java: { id: 62, name: 'Java' },
  js: { id: 63, name: 'JavaScript' },
  mjs: { id: 63, name: 'JavaScript' },
  go: { id: 60, name: 'Go' },
  rs: { id: 73, name: 'Rust' },
  sh: { id: 46, name: 'Bash' },
  py: { id: 71, name: 'Python' },
};

/** The Judge0 language of a file by its extension, or null when it cannot be run. */
export function judgeLanguage(path: string): { id: number; name: string } | null {
  const name = baseName(path).toLowerCase();
  const dot = name.lastIndexOf('.');
  return dot > 0 ? (LANGUAGES[name.slice(dot + 1)] ?? null) : null;
}

export interface JudgeStatus {
  id: number;
  description: string;
}

/** A submission as the judge returns it, outputs decoded. */
export interface Submission {
  token: string;
  status: JudgeStatus;
  stdout: string | null;
  stderr: string | null;
  compileOutput: string | null;
  message: string | null;
  /** Seconds of CPU time, as the judge's string ("0.002"), or null. */
  time: string | null;
  /** Peak memory in KB, or null. */
  memory: number | null;
  exitCode: number | null;
}

export const ACCEPTED = 3;
export const WRONG_ANSWER = 4;

/** Still waiting: In Queue (1) or Processing (2). */
export function isPending(status: JudgeStatus): boolean {
  return status.id === 1 || status.id === 2;
}

/** "ok", "wrong", "limit" (time or memory), "error" (compile, runtime, internal), "pending". */
export function verdictKind(submission: Submission): string {
  const id = submission.status.id;
  if (isPending(submission.status)) {
    return 'pending';
  }
  if (id === ACCEPTED) {
    return 'ok';
  }
  if (id === WRONG_ANSWER) {
    return 'wrong';
  }
  if (id === 5 || submission.message === 'Memory limit exceeded') {
    return 'limit';
  }
  return 'error';
}

/** Text to base64 as UTF-8, as the judge takes it with base64_encoded=true. */
export function encodeText(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text));
}

/** Base64 from the judge to text; bytes that are not UTF-8 become U+FFFD. */
export function decodeText(data: unknown): string | null {
  if (typeof data !== 'string' || data === '') {
    return null;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(base64ToBytes(data));
}

/** Read a submission of the judge's JSON (base64-encoded outputs). */
export function parseSubmission(data: unknown): Submission {
  if (typeof data !== 'object' || data === null) {
    throw new Error('submission: not an object');
  }
  const raw = data as Record<string, unknown>;
  const status = (typeof raw.status === 'object' && raw.status !== null ? raw.status : {}) as {
    id?: unknown;
    description?: unknown;
  };
  const memory = raw.memory === null || raw.memory === undefined ? null : Number(raw.memory);
  const exit = raw.exit_code === null || raw.exit_code === undefined ? null : Number(raw.exit_code);
  return {
    token: String(raw.token ?? ''),
    status: { id: Number(status.id ?? 0), description: String(status.description ?? 'Unknown') },
    stdout: decodeText(raw.stdout),
    stderr: decodeText(raw.stderr),
    compileOutput: decodeText(raw.compile_output),
    message: decodeText(raw.message),
    time: raw.time === null || raw.time === undefined ? null : String(raw.time),
    memory: Number.isFinite(memory) ? memory : null,
    exitCode: Number.isFinite(exit) ? exit : null,
  };
}

/** "0.012 s · 3.4 MB" for a finished run. */
export function formatUsage(submission: Submission): string {
  const parts: string[] = [];
  if (submission.time !== null) {
    parts.push(`${submission.time} s`);
  }
  if (submission.memory !== null) {
    parts.push(
      submission.memory >= 1024
        ? `${(submission.memory / 1024).toFixed(1)} MB`
        : `${submission.memory} KB`,
    );
  }
  return parts.join(' · ');
}

/** The error text of a failed run, for the assistant: compiler output, stderr or message. */
export function runError(submission: Submission): string | null {
  if (submission.status.id === ACCEPTED || isPending(submission.status)) {
    return null;
  }
  const parts = [submission.compileOutput, submission.stderr, submission.message].filter(
    (p): p is string => !!p && !!p.trim(),
  );
  return parts.length ? `${submission.status.description}\n${parts.join('\n')}` : null;
}

export interface TestCase {
  id: string;
  name: string;
  stdin: string;
  expected: string;
}

/** Where a file's test cases are kept: `<name>.tests.json` beside it. */
export function testsPathFor(path: string): string {
  return joinPath(dirName(path), `${baseName(path)}.tests.json`);
}

/** A new, empty test case with a fresh id. */
export function newTestCase(n: number): TestCase {
  const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  return { id, name: `Test ${n}`, stdin: '', expected: '' };
}

/** Read a tests file; anything unreadable is an error with a message for people. */
export function parseTests(text: string): TestCase[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`The tests file is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const cases = (data as { cases?: unknown } | null)?.cases;
  if (!Array.isArray(cases)) {
    throw new Error('The tests file has no "cases" list');
  }
  return cases.map((c: unknown, i) => {
    const raw = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
    return {
      id: typeof raw.id === 'string' && raw.id ? raw.id : `case-${i + 1}`,
      name: typeof raw.name === 'string' ? raw.name : `Test ${i + 1}`,
      stdin: typeof raw.stdin === 'string' ? raw.stdin : '',
      expected: typeof raw.expected_output === 'string' ? raw.expected_output : '',
    };
  });
}

/** Write test cases as the tests file's JSON. */
export function serializeTests(cases: TestCase[]): string {
  const out = cases.map((c) => ({
    id: c.id,
    name: c.name,
    stdin: c.stdin,
    expected_output: c.expected,
  }));
  return `${JSON.stringify({ version: 1, cases: out }, null, 2)}\n`;
}

/** Output normalised as the judge compares it: trailing spaces of lines and of the end ignored. */
export function normaliseOutput(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/, ''))
    .join('\n')
    .replace(/\s+$/, '');
}

/** Whether an output matches what was expected, by the judge's rule. */
export function outputMatches(expected: string, actual: string | null): boolean {
  return normaliseOutput(expected) === normaliseOutput(actual ?? '');
}

export interface DiffLine {
  kind: 'same' | 'expected' | 'actual';
  text: string;
}

/** Line diff of expected against actual output, normalised first. */
export function outputDiff(expected: string, actual: string | null): DiffLine[] {
  const a = normaliseOutput(expected);
  const b = normaliseOutput(actual ?? '');
  const lines: DiffLine[] = [];
  for (const part of diffLines(a ? `${a}\n` : '', b ? `${b}\n` : '')) {
    const kind = part.added ? 'actual' : part.removed ? 'expected' : 'same';
    for (const text of part.value.replace(/\n$/, '').split('\n')) {
      lines.push({ kind, text });
    }
  }
  return lines;
}

/** Split a list into groups of at most ``size`` (the judge takes 20 per batch). */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

/**
 * Poll ``fetch`` until no submission is pending, waiting ``interval`` ms between rounds, growing
 * to at most 1 s; ``onUpdate`` sees each round. Stops with an AbortError when ``signal`` aborts.
 */
export async function pollUntilDone(
  fetch: () => Promise<Submission[]>,
  onUpdate: (submissions: Submission[]) => void,
  signal?: AbortSignal,
  interval = 150,
): Promise<Submission[]> {
  let wait = interval;
  for (;;) {
    signal?.throwIfAborted();
    const submissions = await fetch();
    onUpdate(submissions);
    if (!submissions.some((s) => isPending(s.status))) {
      return submissions;
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, wait);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
    wait = Math.min(1000, Math.round(wait * 1.5));
  }
}
