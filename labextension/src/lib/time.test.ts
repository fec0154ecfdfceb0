import { describe, expect, it } from 'vitest';
import { formatSize, formatWhen } from './time';

describe('formatWhen', () => {
  const now = new Date('2026-11-25T15:00:00');

  it('shows only the time for today, the date too for other days and years', () => {
    expect(formatWhen(new Date('2026-11-25T14:05:09').toISOString(), now)).toMatch(
      /14.05.09|2:05:09/,
    );
    expect(formatWhen(new Date('2026-11-24T14:05:09').toISOString(), now)).toMatch(/24/);
    expect(formatWhen(new Date('2025-01-02T10:00:00').toISOString(), now)).toMatch(/2025/);
  });

  it('leaves text that is not a time alone', () => {
    expect(formatWhen('yesterday', now)).toBe('yesterday');
  });
});

describe('formatSize', () => {
  it('picks a unit', () => {
    expect(formatSize(12)).toBe('12 B');
    expect(formatSize(2048)).toBe('2.0 KB');
    expect(formatSize(3 * 1024 * 1024)).toBe('3.0 MB');
  });
});
