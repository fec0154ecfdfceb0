import { describe, expect, it } from 'vitest';
import {
  assignmentBody,
  draftOf,
  EMPTY_DRAFT,
  localInput,
  newTest,
  testsBody,
  type AssignmentDraft,
  type TestDraft,
} from './assignmentForm';
import { parseAssignment } from './assignments';

const FORM: AssignmentDraft = { ...EMPTY_DRAFT, name: ' hw2 ', folder: 'src/hw2', language: 'c' };

describe('assignmentBody when creating', () => {
  it('sends what was given: the due date in UTC, the window in seconds, no empty parts', () => {
    expect(assignmentBody(FORM)).toEqual({
      body: { name: 'hw2', folder: 'src/hw2', language: 'c', window_seconds: 86_400 },
    });
    const made = assignmentBody({
      ...FORM,
      title: 'Sums',
      due: '2026-12-01T10:00',
      latePenaltyPercent: '10',
      cutoffHours: '48',
      maxSubmissions: '3',
      windowMinutes: '60',
      rubric: [{ name: ' style ', points: '2' }],
    });
    expect('body' in made && made.body).toEqual({
      name: 'hw2',
      folder: 'src/hw2',
      language: 'c',
      title: 'Sums',
      due_at: new Date('2026-12-01T10:00').toISOString(),
      late_penalty_percent: 10,
      cutoff_hours: 48,
      max_submissions: 3,
      window_seconds: 3600,
      rubric: [{ name: 'style', points: 2 }],
    });
  });

  it('refuses what the server would refuse, saying which field', () => {
    expect(assignmentBody({ ...FORM, folder: ' ' })).toHaveProperty('error');
    expect(assignmentBody({ ...FORM, latePenaltyPercent: 'ten' })).toEqual({
      error: 'The late penalty (% a day) must be a number.',
    });
    expect(assignmentBody({ ...FORM, maxSubmissions: '2.5' })).toEqual({
      error: 'Submissions per window must be a whole number.',
    });
    expect(assignmentBody({ ...FORM, rubric: [{ name: '', points: '1' }] })).toEqual({
      error: 'Rubric item 1 needs a name.',
    });
  });
});

describe('testsBody', () => {
  it('writes file and stdin tests with points, visibility and limits', () => {
    const file: TestDraft = {
      ...newTest('file'),
      name: 'works',
      path: 'test_a.py',
      visibility: 'hidden',
    };
    const stdin: TestDraft = {
      ...newTest('stdin'),
      name: 'small',
      points: '2.5',
      program: 'main.c',
      stdin: '1 2\n',
      expectedOutput: '3\n',
      cpuSeconds: '2',
      memoryMb: '64',
    };
    expect(testsBody([file, stdin])).toEqual({
      value: [
        {
          kind: 'file',
          name: 'works',
          points: 1,
          visibility: 'hidden',
          path: 'test_a.py',
          limits: { cpu_seconds: 5, memory_kb: 262144 },
        },
        {
          kind: 'stdin',
          name: 'small',
          points: 2.5,
          visibility: 'visible',
          program: 'main.c',
          stdin: '1 2\n',
          expected_output: '3\n',
          limits: { cpu_seconds: 2, memory_kb: 65536 },
        },
      ],
    });
  });

  it('names the test that is incomplete', () => {
    expect(testsBody([newTest('file')])).toEqual({ error: 'Test 1 needs a name.' });
    expect(testsBody([{ ...newTest('file'), name: 'a' }])).toEqual({
      error: 'Test 1 (a): name the test file in the folder.',
    });
    expect(testsBody([{ ...newTest('stdin'), name: 'b' }])).toEqual({
      error: 'Test 1 (b): name the file that is run.',
    });
    expect(testsBody([{ ...newTest('stdin'), name: 'c', program: 'm.c', memoryMb: 'x' }])).toEqual({
      error: 'Test 1 (c): the memory limit must be a number.',
    });
  });
});

describe('editing', () => {
  const a = parseAssignment({
    name: 'hw1',
    title: 'Homework 1',
    language: 'c',
    source_folder: 'src/hw1',
    due_at: '2026-12-01T10:00:00+00:00',
    late_penalty_percent: 10,
    cutoff_hours: null,
    max_submissions: 0,
    window_seconds: 3600,
    rubric: [{ name: 'style', points: 1 }],
    spec: {
      language: 'c',
      tests: [
        {
          kind: 'stdin',
          name: 'small',
          points: 1,
          visibility: 'visible',
          program: 'main.c',
          stdin: '1 2\n',
          expected_output: '3\n',
          limits: { cpu_seconds: 5, memory_kb: 262144 },
        },
      ],
    },
  });

  it('fills the form from the assignment, the deadline in local time', () => {
    const draft = draftOf(a);
    expect(draft).toMatchObject({
      name: 'hw1',
      title: 'Homework 1',
      folder: 'src/hw1',
      due: localInput('2026-12-01T10:00:00+00:00'),
      latePenaltyPercent: '10',
      cutoffHours: '',
      maxSubmissions: '',
      windowMinutes: '60',
      rubric: [{ name: 'style', points: '1' }],
    });
    expect(new Date(draft.due).toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(draft.tests[0]).toMatchObject({ kind: 'stdin', program: 'main.c', memoryMb: '256' });
  });

  it('sends every policy field; the folder is read again only when tests change', () => {
    const draft = draftOf(a);
    const same = assignmentBody(draft, draft);
    expect('body' in same && same.body).toEqual({
      title: 'Homework 1',
      due_at: '2026-12-01T10:00:00.000Z',
      late_penalty_percent: 10,
      cutoff_hours: null,
      max_submissions: 0,
      window_seconds: 3600,
      rubric: [{ name: 'style', points: 1 }],
    });
    const cleared = assignmentBody({ ...draft, due: '' }, draft);
    expect('body' in cleared && cleared.body.due_at).toBeNull();
    const [first] = draft.tests;
    if (!first) {
      throw new Error('the draft has no test');
    }
    const changed = assignmentBody({ ...draft, tests: [{ ...first, points: '4' }] }, draft);
    expect('body' in changed && changed.body).toMatchObject({
      refresh: true,
      language: 'c',
      tests: [{ kind: 'stdin', name: 'small', points: 4 }],
    });
    const reread = assignmentBody({ ...draft, refresh: true }, draft);
    expect('body' in reread && reread.body.refresh).toBe(true);
  });
});
