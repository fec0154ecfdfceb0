/** What "apply as a diff" proposes for an assistant's code block, for the user to review. */
import { applyPatch, parsePatch } from 'diff';

export interface Range {
  start: number;
  end: number;
}

export type Proposal =
  { ok: true; text: string; how: 'patch' | 'selection' | 'file' } | { ok: false; message: string };

/** Whether a code block is a unified diff (by its language, or by its hunk headers). */
export function isUnifiedDiff(code: string, language: string): boolean {
  if (language === 'diff' || language === 'patch') {
    return true;
  }
  return /^@@ -\d+(,\d+)? \+\d+(,\d+)? @@/m.test(code) && /^(---|\+\+\+) /m.test(code);
}

/**
 * The new content of a file after an assistant's code block: a unified diff is applied to it
 * (tolerating a line or two of drifted context), other code replaces the selection when there
 * is one, and the whole file otherwise.
 */
export function proposeChange(
  current: string,
  code: string,
  language: string,
  selection: Range | null,
): Proposal {
  if (isUnifiedDiff(code, language)) {
    let patches;
    try {
      patches = parsePatch(code.endsWith('\n') ? code : `${code}\n`);
    } catch (e) {
      return { ok: false, message: `This diff cannot be read: ${(e as Error).message}` };
    }
    if (patches.length !== 1 || !patches[0]?.hunks.length) {
      return { ok: false, message: 'This diff does not change exactly one file.' };
    }
    const result = applyPatch(current, patches[0], { fuzzFactor: 2 });
    if (result === false) {
      return {
        ok: false,
        message: 'This diff does not fit the file as it is now (its context lines differ).',
      };
    }
    return { ok: true, text: result, how: 'patch' };
  }
  if (selection && selection.end > selection.start) {
    const start = Math.max(0, Math.min(selection.start, current.length));
    const end = Math.max(start, Math.min(selection.end, current.length));
    return {
      ok: true,
      text: current.slice(0, start) + code + current.slice(end),
      how: 'selection',
    };
  }
  const text = current.endsWith('\n') && !code.endsWith('\n') ? `${code}\n` : code;
  return { ok: true, text, how: 'file' };
}
