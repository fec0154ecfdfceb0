import { describe, expect, it } from 'vitest';
import { decideOnFocus, decideSave, type DiskState } from './diskState';

const LOADED = '2026-01-01T10:00:00.000000Z';
const LATER = '2026-01-01T10:05:00.000000Z';

function state(dirty: boolean, knownModified: string | null = LOADED): DiskState {
  return { knownModified, dirty };
}

describe('decideSave', () => {
  it('saves when the file has not moved on', () => {
    expect(decideSave(state(true), LOADED)).toBe('save');
  });

  it('treats the same instant written differently as unchanged', () => {
    expect(decideSave(state(true), '2026-01-01T10:00:00Z')).toBe('save');
  });

  it('refuses to overwrite a newer version on disk', () => {
    expect(decideSave(state(true), LATER)).toBe('conflict');
  });

  it('saves when nothing is known (new file, or the file is gone)', () => {
    expect(decideSave(state(true, null), LATER)).toBe('save');
    expect(decideSave(state(true), null)).toBe('save');
  });
});

describe('decideOnFocus', () => {
  it('does nothing when the file has not moved on', () => {
    expect(decideOnFocus(state(false), LOADED)).toBe('nothing');
    expect(decideOnFocus(state(true), LOADED)).toBe('nothing');
  });

  it('reloads a clean editor whose file moved on', () => {
    expect(decideOnFocus(state(false), LATER)).toBe('reload');
  });

  it('asks when there are unsaved changes and the file moved on', () => {
    expect(decideOnFocus(state(true), LATER)).toBe('conflict');
  });
});
