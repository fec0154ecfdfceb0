import { describe, expect, it } from 'vitest';
import { pathToUri, uriToPath } from './uris';

const ROOT = 'file:///home/student/work/';

describe('pathToUri', () => {
  it('puts the path under the root and encodes each segment', () => {
    expect(pathToUri(ROOT, 'src/a b.py')).toBe('file:///home/student/work/src/a%20b.py');
    expect(pathToUri(ROOT, 'x#1/é.c')).toBe('file:///home/student/work/x%231/%C3%A9.c');
  });

  it('ignores empty segments', () => {
    expect(pathToUri('file:///r', '/a//b.py')).toBe('file:///r/a/b.py');
  });
});

describe('uriToPath', () => {
  it('is the inverse of pathToUri', () => {
    for (const path of ['a.py', 'src/a b.py', 'x#1/é.c', 'deep/er/still.go']) {
      expect(uriToPath(ROOT, pathToUri(ROOT, path))).toBe(path);
    }
  });

  it('accepts a root spelled with a single slash or encoded characters', () => {
    expect(uriToPath(ROOT, 'file:/home/student/work/m.py')).toBe('m.py');
    expect(uriToPath('file:///home/st%C3%BCdent', 'file:///home/stüdent/m.py')).toBe('m.py');
  });

  it('refuses URIs outside the root', () => {
    expect(uriToPath(ROOT, 'file:///usr/lib/python3/os.py')).toBeNull();
    expect(uriToPath(ROOT, 'file:///home/student/workshop/a.py')).toBeNull();
    expect(uriToPath(ROOT, 'file:///home/student/work/../x.py')).toBeNull();
    expect(uriToPath(ROOT, 'file:///home/student/work/')).toBeNull();
    expect(uriToPath(ROOT, 'inmemory://model/1')).toBeNull();
    expect(uriToPath(ROOT, 'file:///home/student/work/%E0%A4%A.py')).toBeNull();
  });
});
