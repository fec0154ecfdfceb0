import { describe, expect, it } from 'vitest';
import { baseName, dirName, invalidName, joinPath, languageForPath } from './languages';

describe('languageForPath', () => {
  it('maps the eight course languages by extension', () => {
    expect(languageForPath('a/b/main.py')).toBe('python');
    expect(languageForPath('x.c')).toBe('c');
    expect(languageForPath('x.cpp')).toBe('cpp');
    expect(languageForPath('Main.java')).toBe('java');
    expect(languageForPath('app.js')).toBe('javascript');
    expect(languageForPath('main.go')).toBe('go');
    expect(languageForPath('lib.rs')).toBe('rust');
    expect(languageForPath('run.sh')).toBe('shell');
  });
  it('is case-insensitive and knows special names', () => {
    expect(languageForPath('README.MD')).toBe('markdown');
    expect(languageForPath('Dockerfile')).toBe('dockerfile');
  });
  it('falls back to plain text', () => {
    expect(languageForPath('notes')).toBe('plaintext');
    expect(languageForPath('.bashrc')).toBe('plaintext');
    expect(languageForPath('data.unknownext')).toBe('plaintext');
  });
});

describe('paths', () => {
  it('splits and joins', () => {
    expect(baseName('a/b/c.txt')).toBe('c.txt');
    expect(dirName('a/b/c.txt')).toBe('a/b');
    expect(dirName('c.txt')).toBe('');
    expect(joinPath('', 'c.txt')).toBe('c.txt');
    expect(joinPath('a', 'c.txt')).toBe('a/c.txt');
  });
  it('rejects names that are not one path segment', () => {
    expect(invalidName('')).not.toBeNull();
    expect(invalidName('a/b')).not.toBeNull();
    expect(invalidName('..')).not.toBeNull();
    expect(invalidName('a\\b')).not.toBeNull();
    expect(invalidName('ok.py')).toBeNull();
  });
});
