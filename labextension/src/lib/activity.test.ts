import { describe, expect, it } from 'vitest';
import {
  EDIT_MAX_MS,
  EDIT_QUIET_MS,
  EditCounter,
  describeEvent,
  parseDashboard,
  parseTimeline,
  parseVersions,
  type TimelineEvent,
} from './activity';

describe('EditCounter', () => {
  it('reports once typing pauses, with the changes and characters counted', () => {
    const counter = new EditCounter();
    expect(counter.due(0)).toBe(false);
    counter.add(1, 0);
    counter.add(3, 500);
    expect(counter.due(500 + EDIT_QUIET_MS - 1)).toBe(false);
    expect(counter.due(500 + EDIT_QUIET_MS)).toBe(true);
    expect(counter.take(3000)).toEqual({ edits: 2, chars: 4, age_ms: 3000 });
    expect(counter.take(3000)).toBeNull();
    expect(counter.due(100000)).toBe(false);
  });

  it('takes a paste back out of the typing', () => {
    const counter = new EditCounter();
    counter.add(1, 0);
    counter.add(500, 100);
    counter.forget(500);
    expect(counter.take(100)).toEqual({ edits: 1, chars: 1, age_ms: 100 });
  });

  it('reports during long typing at least every EDIT_MAX_MS', () => {
    const counter = new EditCounter();
    for (let t = 0; t <= EDIT_MAX_MS; t += 500) {
      counter.add(1, t);
    }
    expect(counter.due(EDIT_MAX_MS)).toBe(true);
  });
});

describe('parsers', () => {
  it('reads a timeline, leaving out entries without a kind or time', () => {
    const timeline = parseTimeline({
      course: 'c1',
      student: 'ann',
      path: null,
      events: [
        {
          kind: 'paste',
          time: '2026-01-01T00:00:00+00:00',
          path: 'a.py',
          size: 500,
          source: 'b.py',
        },
        {
          kind: 'run',
          time: '2026-01-01T00:00:01+00:00',
          verdict: { id: 3, description: 'Accepted' },
        },
        { kind: 'save' },
        'junk',
      ],
    });
    expect(timeline.events.map((e) => e.kind)).toEqual(['paste', 'run']);
    expect(describeEvent(timeline.events[0] as TimelineEvent)).toBe(
      'pasted 500 characters from b.py',
    );
    expect(describeEvent(timeline.events[1] as TimelineEvent)).toBe('ran: Accepted');
  });

  it('reads versions and a dashboard', () => {
    const versions = parseVersions({
      versions: [{ n: 1, hash: 'h1', size: 3, time: 't', reason: 'save', current: false }, {}],
    });
    expect(versions).toHaveLength(1);
    const board = parseDashboard({
      course: 'c1',
      assignment: 'hw',
      students: [
        {
          student: 'ann',
          online: true,
          path: 'a.py',
          last_run: { id: 4, description: 'Wrong Answer' },
          failing_tests: 2,
          tests: 3,
          hand_raised: true,
          ai_requests_10m: 5,
        },
        { online: true },
      ],
      totals: { online: 1, hands: 1 },
    });
    expect(board.students).toHaveLength(1);
    expect(board.students[0]).toMatchObject({
      student: 'ann',
      lastRun: 'Wrong Answer',
      lastRunOk: false,
      failingTests: 2,
      handRaised: true,
      aiRequests: 5,
    });
  });
});
