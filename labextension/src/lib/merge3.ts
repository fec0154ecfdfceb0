/** A three-way merge of a re-released file: the release's changes applied to one's own. */
import { applyPatch, structuredPatch } from 'diff';

/**
 * The student's text with the changes the new release made to the version they were given,
 * or null when those changes do not fit where the student's text stands (a conflict: they
 * merge by hand). No base (it could not be read): null.
 */
export function applyReleaseChanges(
  base: string | null,
  next: string,
  mine: string,
): string | null {
  if (base === null) {
    return null;
  }
  if (base === next) {
    return mine;
  }
  const patch = structuredPatch('given', 'new', base, next, '', '', { context: 2 });
  const merged = applyPatch(mine, patch);
  return merged === false ? null : merged;
}
