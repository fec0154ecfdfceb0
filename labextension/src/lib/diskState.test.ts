import { describe, expect, it } from 'vitest';
import { decideOnFocus, decideSave } from './diskState';

const t1 = '2026-01-01T10:00:00.000000Z';
const t2 = '2026-01-01T10:05:00.000000Z';

describe('changed on disk', () => {
  it('saves when the disk has not moved on', () => {
    expect(decideSave({ knownModified: t1, dirty: true }, t1)).toBe('save');
    expect(decideSave({ knownModified: t1, dirty: true }, null)).toBe('save');
  });
  it('asks before overwriting a newer version', () => {
    expect(decideSave({ knownModified: t1, dirty: true }, t2)).toBe('conflict');
  });
  it('reloads a clean editor and warns a dirty one', () => {
    expect(decideOnFocus({ knownModified: t1, dirty: false }, t2)).toBe('reload');
    expect(decideOnFocus({ knownModified: t1, dirty: true }, t2)).toBe('conflict');
    expect(decideOnFocus({ knownModified: t1, dirty: true }, t1)).toBe('nothing');
  });
});
