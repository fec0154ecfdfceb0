import { describe, expect, it } from 'vitest';
import {
  baseName,
  dirName,
  invalidName,
  isUnder,
  joinPath,
  languageForKernel,
  languageForPath,
  renamePath,
} from './languages';

describe('languageForPath', () => {
  it.each([
    ['main.py', 'python'],
    ['src/lib.c', 'c'],
    ['include/lib.h', 'c'],
    ['a/b/prog.cpp', 'cpp'],
    ['vec.hpp', 'cpp'],
    ['Main.java', 'java'],
    ['app.js', 'javascript'],
    ['app.ts', 'typescript'],
    ['main.go', 'go'],
    ['lib.rs', 'rust'],
    ['run.sh', 'shell'],
    ['data.json', 'json'],
    ['README.md', 'markdown'],
    ['index.html', 'html'],
    ['site.css', 'css'],
    ['ci.yaml', 'yaml'],
    ['ci.yml', 'yaml'],
    ['notes.txt', 'plaintext'],
  ])('%s is %s', (path, language) => {
    expect(languageForPath(path)).toBe(language);
  });

  it('ignores the case of the extension', () => {
    expect(languageForPath('SHOUT.PY')).toBe('python');
  });

  it('knows files by their whole name', () => {
    expect(languageForPath('docker/Dockerfile')).toBe('dockerfile');
    expect(languageForPath('Makefile')).toBe('shell');
  });

  it('falls back to plain text', () => {
    expect(languageForPath('LICENSE')).toBe('plaintext');
    expect(languageForPath('archive.xyz')).toBe('plaintext');
    expect(languageForPath('.bashrc')).toBe('plaintext');
    expect(languageForPath('dir.py/file')).toBe('plaintext');
  });
});

describe('paths', () => {
  it('splits and joins', () => {
    expect(baseName('a/b/c.txt')).toBe('c.txt');
    expect(baseName('c.txt')).toBe('c.txt');
    expect(dirName('a/b/c.txt')).toBe('a/b');
    expect(dirName('c.txt')).toBe('');
    expect(joinPath('', 'c.txt')).toBe('c.txt');
    expect(joinPath('a', 'b', 'c.txt')).toBe('a/b/c.txt');
  });

  it('refuses unusable names', () => {
    expect(invalidName('ok.py')).toBeNull();
    expect(invalidName('  ')).not.toBeNull();
    expect(invalidName('a/b')).not.toBeNull();
    expect(invalidName('a\\b')).not.toBeNull();
    expect(invalidName('..')).not.toBeNull();
  });
});

describe('renames and folders', () => {
  it('maps paths under a renamed folder', () => {
    expect(renamePath('a/b.txt', 'a/b.txt', 'c.txt')).toBe('c.txt');
    expect(renamePath('src/x/y.py', 'src', 'lib')).toBe('lib/x/y.py');
    expect(renamePath('srcs/y.py', 'src', 'lib')).toBe('srcs/y.py');
  });

  it('knows what is inside a folder', () => {
    expect(isUnder('a/b', 'a')).toBe(true);
    expect(isUnder('a', 'a')).toBe(true);
    expect(isUnder('ab', 'a')).toBe(false);
  });
});

describe('languageForKernel', () => {
  it.each([
    ['python', 'python'],
    ['Python', 'python'],
    ['C++17', 'cpp'],
    ['c', 'c'],
    ['java', 'java'],
    ['javascript', 'javascript'],
    ['node', 'javascript'],
    ['go', 'go'],
    ['rust', 'rust'],
    ['bash', 'shell'],
    ['', 'plaintext'],
  ])('%s is %s', (kernel, language) => {
    expect(languageForKernel(kernel)).toBe(language);
  });
});
