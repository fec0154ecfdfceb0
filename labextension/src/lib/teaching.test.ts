import { describe, expect, it } from 'vitest';
import {
  formatWaiting,
  parseHelpView,
  parseTranscripts,
  positionText,
  waitedNow,
} from './teaching';

describe('teaching', () => {
  it('reads an instructor queue and a student view', () => {
    const row = { id: 3, student: 'ann', message: 'hi', status: 'open', waiting_seconds: 9 };
    const queue = parseHelpView({ role: 'instructor', queue: [row], closed: [] });
    expect(queue.role).toBe('instructor');
    expect(queue.role === 'instructor' && queue.queue[0]?.waitingSeconds).toBe(9);
    const mine = parseHelpView({ role: 'student', open: row, position: 4, closed: [] });
    expect(mine.role === 'student' && mine.position).toBe(4);
    expect(() => parseHelpView({ role: 'student', open: { message: 'no id' } })).toThrow();
  });

  it('reads transcripts, text parts joined', () => {
    const found = parseTranscripts({
      course: 'c1',
      student: null,
      retention_days: 180,
      transcripts: [
        {
          id: 1,
          time: 't',
          student: 'ann',
          model: 'm',
          streamed: true,
          messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { text: 'b' }] }],
          answer: 'x',
        },
      ],
    });
    expect(found.transcripts[0]?.messages[0]?.content).toBe('ab');
    expect(found.retentionDays).toBe(180);
  });

  it('says waits and places as people do', () => {
    expect(formatWaiting(45)).toBe('45 s');
    expect(formatWaiting(180)).toBe('3 min');
    expect(formatWaiting(3900)).toBe('1 h 05 min');
    const open = parseHelpView({
      role: 'student',
      open: { id: 1, status: 'open', waiting_seconds: 10 },
    });
    const request = open.role === 'student' ? open.open : null;
    expect(request && waitedNow(request, 1000, 6000)).toBe(15);
    expect(positionText(1)).toBe('You are next in the queue.');
    expect(positionText(3)).toContain('2 ahead');
    expect(positionText(null)).toBe('Your hand is not raised.');
  });
});
