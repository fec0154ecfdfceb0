// @vitest-environment node
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { bundleModule, checkIntegrity, resolvePath, unpack } from './bundle';
import { parseJsonc, parseSnippets, toMonacoTheme } from './themes';

function decodeDataUrls(code: string): string[] {
  return [...code.matchAll(/data:text\/javascript;base64,([A-Za-z0-9+/=]+)/g)].map((m) =>
    new TextDecoder().decode(Uint8Array.from(atob(m[1] ?? ''), (c) => c.charCodeAt(0))),
  );
}

describe('bundle', () => {
  it('inlines relative imports from the package as data: modules', () => {
    const files = {
      'main.js': strToU8('import { ide } from "./lib/api.js";\nide();'),
      'lib/api.js': strToU8("import './util.js';\nexport const ide = () => 1;"),
      'lib/util.js': strToU8('export {};'),
    };
    const code = bundleModule(files, 'main.js');
    expect(code).not.toContain('./lib/api.js');
    const [api] = decodeDataUrls(code);
    expect(api).toContain('export const ide');
    expect(decodeDataUrls(api ?? '')).toEqual(['export {};']);
  });

  it('refuses imports outside the package and cycles', () => {
    expect(() => bundleModule({ 'main.js': strToU8('import "../x.js";') }, 'main.js')).toThrow(
      'not in the package',
    );
    const cycle = { 'a.js': strToU8('import "./b.js";'), 'b.js': strToU8('import "./a.js";') };
    expect(() => bundleModule(cycle, 'a.js')).toThrow('cycle');
    expect(resolvePath('a/b.js', '../../c.js')).toBeNull();
  });

  it('loads an archive only when it matches its integrity hash', async () => {
    const data = zipSync({ 'main.js': strToU8('1') });
    const buffer = data.buffer.slice(
      data.byteOffset,
      data.byteOffset + data.byteLength,
    ) as ArrayBuffer;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer));
    const integrity = `sha256-${btoa(String.fromCharCode(...digest))}`;
    await checkIntegrity(buffer, integrity);
    expect(Object.keys(unpack(buffer))).toEqual(['main.js']);
    await expect(checkIntegrity(buffer, 'sha256-AAAA')).rejects.toThrow('integrity');
  });
});

describe('themes and snippets', () => {
  it('turns a VS Code theme (JSONC) into Monaco theme data, dropping bad colours', () => {
    const theme = parseJsonc(`{
      // comment
      "type": "dark",
      "colors": {"editor.background": "#0b1021", "editor.foreground": "red",},
      "tokenColors": [{"scope": ["comment", "string"], "settings": {"foreground": "#637777", "fontStyle": "italic"}}]
    }`);
    expect(toMonacoTheme(theme, 'vs-dark')).toEqual({
      base: 'vs-dark',
      inherit: true,
      colors: { 'editor.background': '#0b1021' },
      rules: [
        { token: 'comment', foreground: '637777', fontStyle: 'italic' },
        { token: 'string', foreground: '637777', fontStyle: 'italic' },
      ],
    });
    expect(toMonacoTheme({ type: 'light' }).base).toBe('vs');
  });

  it('reads snippets with one or several prefixes and array bodies', () => {
    const snippets = parseSnippets({
      'For loop': { prefix: ['for', 'fori'], body: ['for ${1:i} in x:', '\\t$0'] },
      broken: { prefix: 'b' },
    });
    expect(snippets.map((s) => s.prefix)).toEqual(['for', 'fori']);
    expect(snippets[0]?.body).toBe('for ${1:i} in x:\n\\t$0');
  });
});
