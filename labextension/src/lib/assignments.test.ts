import { describe, expect, it } from 'vitest';
import {
  assignmentState,
  isPending,
  parseAssignment,
  parseMerge,
  parseSubmission,
} from './assignments';

const BASE = {
  name: 'hw1',
  version: 1,
  fetched_version: 1,
  due_at: '2026-12-01T10:00:00+00:00',
  cutoff_hours: 24,
};

describe('assignmentState', () => {
  const before = new Date('2026-11-30T10:00:00Z');
  const late = new Date('2026-12-01T12:00:00Z');
  const after = new Date('2026-12-02T10:00:01Z');

  it('says whether the student has a copy and whether it is the newest', () => {
    expect(assignmentState(parseAssignment({ ...BASE, fetched_version: null }), before)).toBe(
      'not-fetched',
    );
    expect(assignmentState(parseAssignment({ ...BASE, version: 2 }), before)).toBe('update');
    expect(assignmentState(parseAssignment(BASE), before)).toBe('open');
  });

  it('is late after the deadline and closed after the cut-off', () => {
    expect(assignmentState(parseAssignment(BASE), late)).toBe('late');
    expect(assignmentState(parseAssignment(BASE), after)).toBe('closed');
    expect(assignmentState(parseAssignment({ ...BASE, cutoff_hours: null }), after)).toBe('late');
  });

  it('is never late without a deadline', () => {
    expect(assignmentState(parseAssignment({ ...BASE, due_at: null }), after)).toBe('open');
  });
});

describe('parseSubmission', () => {
  it('fills missing parts and knows pending states', () => {
    const s = parseSubmission({ id: 3, status: 'queued' });
    expect(s).toMatchObject({ results: [], feedback: null, lateDays: null, error: null });
    expect(isPending(s)).toBe(true);
    expect(isPending(parseSubmission({ id: 3, status: 'graded' }))).toBe(false);
  });

  it('refuses an id that is not a whole number', () => {
    expect(() => parseSubmission({ id: '3' })).toThrow('no id');
    expect(() => parseSubmission(null)).toThrow('not an object');
  });
});

describe('parseAssignment for instructors', () => {
  it('reads the stdin and file tests, not notebook ones, and the extensions', () => {
    const a = parseAssignment({
      name: 'hw1',
      source_folder: 'src/hw1',
      spec: {
        language: 'c',
        tests: [
          { kind: 'notebook', name: 'cell', points: 1, visibility: 'visible' },
          {
            kind: 'stdin',
            name: 'small',
            points: 2,
            visibility: 'hidden',
            program: 'main.c',
            stdin: '1 2\n',
            expected_output: '3\n',
            limits: { cpu_seconds: 2, memory_kb: 65536 },
          },
          { kind: 'file', name: 'f', points: 1, visibility: 'nonsense', path: 't.py' },
        ],
      },
      extensions: { sam: '2026-12-03T10:00:00+00:00', bad: 3 },
    });
    expect(a.sourceFolder).toBe('src/hw1');
    expect(a.specTests.map((t) => [t.kind, t.name, t.visibility])).toEqual([
      ['stdin', 'small', 'hidden'],
      ['file', 'f', 'visible'],
    ]);
    expect(a.specTests[0]).toMatchObject({ cpuSeconds: 2, memoryKb: 65536, stdin: '1 2\n' });
    expect(a.specTests[1]).toMatchObject({ cpuSeconds: 5, memoryKb: 262144, path: 't.py' });
    expect(a.extensions).toEqual({ sam: '2026-12-03T10:00:00+00:00' });
  });

  it('reads a merge view; an unreadable base is null', () => {
    const m = parseMerge({
      path: 'a.py',
      folder: 'assignments/c/a',
      version: 2,
      base: null,
      theirs: 'mine',
      theirs_hash: 'h',
      new: 'fixed',
    });
    expect(m).toEqual({
      path: 'a.py',
      folder: 'assignments/c/a',
      version: 2,
      base: null,
      theirs: 'mine',
      theirsHash: 'h',
      next: 'fixed',
    });
    expect(() => parseMerge([])).toThrow();
  });
});
