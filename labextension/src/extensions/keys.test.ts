import { describe, expect, it } from 'vitest';
import { bindingsOf, matches } from './keys';

const event = (over: Partial<KeyboardEvent>) =>
  ({
    key: '',
    code: '',
    ctrlKey: false,
    shiftKey: false,
    altKey: false,
    metaKey: false,
    ...over,
  }) as KeyboardEvent;

describe('keybindings', () => {
  it('matches exactly the chord, by key or by code', () => {
    expect(
      matches('shift+alt+f', event({ key: 'F', code: 'KeyF', shiftKey: true, altKey: true })),
    ).toBe(true);
    expect(
      matches('shift+alt+f', event({ key: 'Ï', code: 'KeyF', shiftKey: true, altKey: true })),
    ).toBe(true);
    expect(matches('shift+alt+f', event({ key: 'F', code: 'KeyF', shiftKey: true }))).toBe(false);
    expect(
      matches(
        'shift+alt+f',
        event({ key: 'F', code: 'KeyF', shiftKey: true, altKey: true, ctrlKey: true }),
      ),
    ).toBe(false);
    expect(matches('shift+alt', event({ shiftKey: true, altKey: true }))).toBe(false);
  });

  it('reads only well-formed keybindings from a manifest', () => {
    const manifest = {
      contributes: { keybindings: [{ command: 'fmt', key: 'shift+alt+f' }, { command: 3 }, 'x'] },
    };
    expect(bindingsOf('ext', manifest)).toEqual([
      { extension: 'ext', command: 'fmt', key: 'shift+alt+f' },
    ]);
    expect(bindingsOf('ext', {})).toEqual([]);
  });
});
