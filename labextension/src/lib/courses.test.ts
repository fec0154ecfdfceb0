import { describe, expect, it } from 'vitest';
import type { Course } from '../api/client';
import {
  chooseCourse,
  courseKey,
  courseLabel,
  loadChoice,
  memberCourses,
  needsPicker,
  saveChoice,
} from './courses';

const FULL: Course = { name: 'cs-full', title: 'Full help', myRole: 'student' };
const HINT: Course = { name: 'cs-hint', title: '', myRole: 'student' };
const OTHER: Course = { name: 'art', title: 'Art', myRole: null };

/** A Storage of a Map, as the browser's. */
function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (k) => items.get(k) ?? null,
    key: (i) => [...items.keys()][i] ?? null,
    removeItem: (k) => void items.delete(k),
    setItem: (k, v) => void items.set(k, String(v)),
  };
}

describe('course picker logic', () => {
  it("keeps only the user's own courses (an admin sees every course)", () => {
    expect(memberCourses([FULL, OTHER, HINT])).toEqual([FULL, HINT]);
  });

  it('offers a picker only with several courses', () => {
    expect(needsPicker([])).toBe(false);
    expect(needsPicker([FULL])).toBe(false);
    expect(needsPicker([FULL, HINT])).toBe(true);
  });

  it('chooses the kept course while the user is in it, else none', () => {
    expect(chooseCourse([FULL, HINT], 'cs-hint')).toBe('cs-hint');
    expect(chooseCourse([FULL, HINT], 'left-it')).toBeNull();
    expect(chooseCourse([FULL, HINT], null)).toBeNull();
    // One course: the server picks it, the client names none.
    expect(chooseCourse([FULL], 'cs-full')).toBeNull();
  });

  it('keys the choice by server, user and workspace', () => {
    const key = courseKey('http://h/user/ada/', 'ada', 'default');
    expect(key).not.toBe(courseKey('http://h/user/ada/', 'bob', 'default'));
    expect(key).not.toBe(courseKey('http://h/user/ada/', 'ada', 'lab'));
    expect(key).not.toBe(courseKey('http://h/user/bob/', 'ada', 'default'));
    // No separator inside a part can make two places share a key.
    expect(courseKey('a:b', 'c', 'd')).not.toBe(courseKey('a', 'b:c', 'd'));
  });

  it('keeps, reads and forgets a choice; broken storage keeps nothing', () => {
    const storage = memoryStorage();
    saveChoice(storage, 'k', 'cs-full');
    expect(loadChoice(storage, 'k')).toBe('cs-full');
    saveChoice(storage, 'k', null);
    expect(loadChoice(storage, 'k')).toBeNull();
    const broken = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    } as unknown as Storage;
    expect(loadChoice(broken, 'k')).toBeNull();
    expect(() => saveChoice(broken, 'k', 'x')).not.toThrow();
    expect(loadChoice(null, 'k')).toBeNull();
  });

  it('labels a course by name and title', () => {
    expect(courseLabel(FULL)).toBe('cs-full · Full help');
    expect(courseLabel(HINT)).toBe('cs-hint');
  });
});
