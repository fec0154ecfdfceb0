import { describe, expect, it } from 'vitest';
import { isUnifiedDiff, proposeChange } from './patch';

const FILE = 'def add(a, b):\n    return a - b\n\n\nprint(add(1, 2))\n';
const PATCH = [
  '--- a/calc.py',
  '+++ b/calc.py',
  '@@ -1,2 +1,2 @@',
  ' def add(a, b):',
  '-    return a - b',
  '+    return a + b',
].join('\n');

describe('isUnifiedDiff', () => {
  it('knows diffs by language or by headers', () => {
    expect(isUnifiedDiff('anything', 'diff')).toBe(true);
    expect(isUnifiedDiff(PATCH, '')).toBe(true);
    expect(isUnifiedDiff('print("@@ -1 +1 @@")', 'python')).toBe(false);
  });
});

describe('proposeChange', () => {
  it('applies a unified diff to the current content', () => {
    expect(proposeChange(FILE, PATCH, 'diff', null)).toEqual({
      ok: true,
      how: 'patch',
      text: FILE.replace('a - b', 'a + b'),
    });
  });

  it('applies a diff whose line numbers drifted', () => {
    const moved = `# a comment\n# another\n${FILE}`;
    const result = proposeChange(moved, PATCH, 'diff', null);
    expect(result).toEqual({ ok: true, how: 'patch', text: moved.replace('a - b', 'a + b') });
  });

  it('refuses a diff that does not fit, saying why', () => {
    const other = 'def add(a, b):\n    return b\n';
    const result = proposeChange(other, PATCH, 'diff', null);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain('does not fit');
  });

  it('refuses a diff of several files', () => {
    const two = `${PATCH}\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n`;
    const result = proposeChange(FILE, two, 'diff', null);
    expect(!result.ok && result.message).toContain('exactly one file');
  });

  it('replaces the selection with plain code', () => {
    const start = FILE.indexOf('return');
    const end = FILE.indexOf('\n', start);
    expect(proposeChange(FILE, 'return a + b', 'python', { start, end })).toEqual({
      ok: true,
      how: 'selection',
      text: FILE.replace('return a - b', 'return a + b'),
    });
  });

  it('replaces the whole file when nothing is selected, keeping the final newline', () => {
    expect(proposeChange(FILE, 'print(3)', 'python', { start: 4, end: 4 })).toEqual({
      ok: true,
      how: 'file',
      text: 'print(3)\n',
    });
    expect(proposeChange('x', 'y', '', null)).toEqual({ ok: true, how: 'file', text: 'y' });
  });

  it('clamps a selection that runs past the end', () => {
    const result = proposeChange('abc', 'Z', 'text', { start: 1, end: 99 });
    expect(result).toEqual({ ok: true, how: 'selection', text: 'aZ' });
  });
});
