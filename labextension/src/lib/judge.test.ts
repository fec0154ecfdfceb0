import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  chunks,
  decodeText,
  encodeText,
  formatUsage,
  judgeLanguage,
  normaliseOutput,
  outputDiff,
  outputMatches,
  parseSubmission,
  parseTests,
  pollUntilDone,
  runError,
  serializeTests,
  testsPathFor,
  verdictKind,
  type Submission,
} from './judge';

function submission(id: number, extra: Partial<Submission> = {}): Submission {
  return {
    token: 't',
    status: { id, description: `status ${id}` },
    stdout: null,
    stderr: null,
    compileOutput: null,
    message: null,
    time: null,
    memory: null,
    exitCode: null,
    ...extra,
  };
}

describe('languages', () => {
  it('maps extensions to Judge0 CE ids', () => {
    expect(judgeLanguage('a/b/main.c')?.id).toBe(50);
    expect(judgeLanguage('x.CPP')?.id).toBe(54);
    expect(judgeLanguage('x.cc')?.id).toBe(54);
    expect(judgeLanguage('Main.java')?.id).toBe(62);
    expect(judgeLanguage('app.mjs')?.id).toBe(63);
    expect(judgeLanguage('main.go')?.id).toBe(60);
    expect(judgeLanguage('main.rs')?.id).toBe(73);
    expect(judgeLanguage('run.sh')?.id).toBe(46);
    expect(judgeLanguage('solve.py')).toEqual({ id: 71, name: 'Python' });
    expect(judgeLanguage('notes.md')).toBeNull();
    expect(judgeLanguage('Makefile')).toBeNull();
    expect(judgeLanguage('.py')).toBeNull();
  });
});

describe('submissions', () => {
  it('decode base64 outputs, keeping bytes that are not UTF-8 visible', () => {
    const parsed = parseSubmission({
      token: 'abc',
      status: { id: 3, description: 'Accepted' },
      stdout: encodeText('héllo\n'),
      stderr: btoa('\xff\xfe'),
      compile_output: null,
      message: '',
      time: '0.012',
      memory: 3480,
      exit_code: 0,
    });
    expect(parsed).toMatchObject({
      token: 'abc',
      stdout: 'héllo\n',
      compileOutput: null,
      message: null,
      time: '0.012',
      memory: 3480,
      exitCode: 0,
    });
    expect(parsed.stderr).toBe('\ufffd\ufffd');
    expect(decodeText(undefined)).toBeNull();
    expect(() => parseSubmission(null)).toThrow();
  });

  it('name verdicts and usage', () => {
    expect(verdictKind(submission(2))).toBe('pending');
    expect(verdictKind(submission(3))).toBe('ok');
    expect(verdictKind(submission(4))).toBe('wrong');
    expect(verdictKind(submission(5))).toBe('limit');
    expect(verdictKind(submission(12, { message: 'Memory limit exceeded' }))).toBe('limit');
    expect(verdictKind(submission(6))).toBe('error');
    expect(formatUsage(submission(3, { time: '0.012', memory: 3480 }))).toBe('0.012 s · 3.4 MB');
    expect(formatUsage(submission(3, { time: '0.5', memory: 800 }))).toBe('0.5 s · 800 KB');
    expect(formatUsage(submission(13))).toBe('');
  });

  it('give the error text of a failed run only', () => {
    expect(runError(submission(3, { stderr: 'warning' }))).toBeNull();
    expect(
      runError(submission(6, { compileOutput: 'main.c:1: error: expected ;', stderr: '  ' })),
    ).toBe('status 6\nmain.c:1: error: expected ;');
    expect(runError(submission(11))).toBeNull();
  });
});

describe('test cases', () => {
  it('live beside the file', () => {
    expect(testsPathFor('hw/sum.py')).toBe('hw/sum.py.tests.json');
    expect(testsPathFor('sum.c')).toBe('sum.c.tests.json');
  });

  it('round-trip through the tests file', () => {
    const cases = [{ id: 'a', name: 'adds', stdin: '1 2\n', expected: '3\n' }];
    expect(parseTests(serializeTests(cases))).toEqual(cases);
  });

  it('fill in what an edited file lacks, and refuse what is not a tests file', () => {
    expect(parseTests('{"cases": [{"stdin": "x"}, 5]}')).toEqual([
      { id: 'case-1', name: 'Test 1', stdin: 'x', expected: '' },
      { id: 'case-2', name: 'Test 2', stdin: '', expected: '' },
    ]);
    expect(() => parseTests('{oops')).toThrow('not valid JSON');
    expect(() => parseTests('{"tests": []}')).toThrow('no "cases" list');
  });
});

describe('output comparison', () => {
  it('ignores trailing spaces of lines and of the whole output, as the judge does', () => {
    expect(normaliseOutput('a  \r\nb\t\n\n\n')).toBe('a\nb');
    expect(outputMatches('3\n', '3')).toBe(true);
    expect(outputMatches('1 2\n', '1 2   \n\n')).toBe(true);
    expect(outputMatches('1 2', ' 1 2')).toBe(false);
    expect(outputMatches('', null)).toBe(true);
    expect(outputMatches('x', null)).toBe(false);
  });

  it('diffs expected against actual line by line', () => {
    expect(outputDiff('1\n2\n3\n', '1\n5\n3\n')).toEqual([
      { kind: 'same', text: '1' },
      { kind: 'expected', text: '2' },
      { kind: 'actual', text: '5' },
      { kind: 'same', text: '3' },
    ]);
    expect(outputDiff('ok', null)).toEqual([{ kind: 'expected', text: 'ok' }]);
  });
});

describe('chunks', () => {
  it('splits into groups of at most n', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 20)).toEqual([]);
  });
});

describe('pollUntilDone', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls while a submission is in queue or processing, with growing waits', async () => {
    const rounds = [[submission(1)], [submission(2)], [submission(3)]];
    const fetch = vi.fn(async () => rounds.shift() ?? []);
    const updates: number[] = [];
    const done = pollUntilDone(fetch, (s) => updates.push(s[0]?.status.id ?? 0), undefined, 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(fetch).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(150);
    expect((await done)[0]?.status.id).toBe(3);
    expect(updates).toEqual([1, 2, 3]);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const fetch = vi.fn(async () => [submission(1)]);
    const done = pollUntilDone(fetch, () => undefined, controller.signal, 100);
    const settled = expect(done).rejects.toBeDefined();
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    await settled;
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});
