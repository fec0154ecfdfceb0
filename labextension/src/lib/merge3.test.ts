import { describe, expect, it } from 'vitest';
import { applyReleaseChanges } from './merge3';

const GIVEN =
  'def area(w, h):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n\ndef perimeter(w, h):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n';

describe('applyReleaseChanges', () => {
  it('puts the release’s fix into the student’s edited file when they touch other lines', () => {
    const fixed = GIVEN.replace('def perimeter(w, h):', 'def perimeter(w: float, h: float):');
    const mine = GIVEN.replace(
      '    # YOUR CODE HERE\n    raise NotImplementedError()\n\n\ndef perimeter',
      '    return w * h\n\n\ndef perimeter',
    );
    expect(applyReleaseChanges(GIVEN, fixed, mine)).toBe(
      'def area(w, h):\n    return w * h\n\n\ndef perimeter(w: float, h: float):\n' +
        '    # YOUR CODE HERE\n    raise NotImplementedError()\n',
    );
  });

  it('is null on a conflict or without the given version, and theirs when nothing changed', () => {
    const fixed = GIVEN.replace('def area(w, h):', 'def area(w: int, h: int):');
    const mine = GIVEN.replace('def area(w, h):', 'def area(width, height):');
    expect(applyReleaseChanges(GIVEN, fixed, mine)).toBeNull();
    expect(applyReleaseChanges(null, fixed, mine)).toBeNull();
    expect(applyReleaseChanges(GIVEN, GIVEN, mine)).toBe(mine);
  });
});
