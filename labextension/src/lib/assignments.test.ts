import { describe, expect, it } from 'vitest';
import {
  assignmentState,
  isPending,
  newAssignmentBody,
  parseAssignment,
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

describe('newAssignmentBody', () => {
  const form = {
    name: ' hw2 ',
    folder: 'src/hw2',
    language: 'c',
    due: '',
    latePenaltyPercent: '',
    tests: '',
  };

  it('sends only what was given, the due date in UTC', () => {
    expect(newAssignmentBody(form)).toEqual({
      body: { name: 'hw2', folder: 'src/hw2', language: 'c' },
    });
    const made = newAssignmentBody({ ...form, due: '2026-12-01T10:00', latePenaltyPercent: '10' });
    expect('body' in made && made.body).toMatchObject({
      due_at: new Date('2026-12-01T10:00').toISOString(),
      late_penalty_percent: 10,
    });
  });

  it('refuses a penalty that is not a number and tests that are not a list', () => {
    expect(newAssignmentBody({ ...form, latePenaltyPercent: 'ten' })).toEqual({
      error: 'The late penalty is a number of percent per day.',
    });
    expect(newAssignmentBody({ ...form, tests: '{"kind": "file"}' })).toEqual({
      error: 'The tests are a JSON list.',
    });
    expect(newAssignmentBody({ ...form, folder: '  ' })).toHaveProperty('error');
  });
});
