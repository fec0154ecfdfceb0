import { describe, expect, it } from 'vitest';
import { lspLanguage, lspLanguageId, serverFor, virtualExtension } from './languages';

const SPECS = {
  pylsp: { languages: ['python'] },
  'bash-language-server': { languages: ['bash', 'sh'] },
  clangd: { languages: ['c', 'cpp', 'objective-c'] },
  'typescript-language-server': { languages: ['javascript', 'jsx', 'typescript', 'tsx'] },
  gopls: { languages: ['go'] },
};

describe('serverFor', () => {
  it('finds the server whose spec lists the language', () => {
    expect(serverFor(SPECS, 'python')).toBe('pylsp');
    expect(serverFor(SPECS, 'shell')).toBe('bash-language-server');
    expect(serverFor(SPECS, 'cpp')).toBe('clangd');
    expect(serverFor(SPECS, 'c')).toBe('clangd');
    expect(serverFor(SPECS, 'javascript')).toBe('typescript-language-server');
    expect(serverFor(SPECS, 'go')).toBe('gopls');
  });

  it('gives null when no spec serves it', () => {
    expect(serverFor(SPECS, 'rust')).toBeNull();
    expect(serverFor(SPECS, 'markdown')).toBeNull();
    expect(serverFor({}, 'python')).toBeNull();
    expect(serverFor({ broken: {} }, 'python')).toBeNull();
  });
});

describe('language names', () => {
  it('knows which languages to ask servers for', () => {
    expect(lspLanguage('python')).toBe(true);
    expect(lspLanguage('plaintext')).toBe(false);
    expect(lspLanguageId('shell')).toBe('shellscript');
    expect(lspLanguageId('go')).toBe('go');
    expect(virtualExtension('python')).toBe('py');
    expect(virtualExtension('cobol')).toBe('txt');
  });
});
