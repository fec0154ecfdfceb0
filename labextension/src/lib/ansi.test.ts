import { describe, expect, it } from 'vitest';
import { ansiToHtml, escapeHtml, palette256, stripAnsi } from './ansi';

const ESC = '\x1b';

describe('ansiToHtml', () => {
  it('escapes HTML in plain text', () => {
    expect(ansiToHtml('<b>&"\'</b>')).toBe('&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;');
  });

  it('turns colour codes into classed spans and resets', () => {
    expect(ansiToHtml(`${ESC}[31mred${ESC}[0m plain`)).toBe(
      '<span class="ansi-red">red</span> plain',
    );
  });

  it('combines bold and colours, and bright and background colours', () => {
    expect(ansiToHtml(`${ESC}[1;32mok`)).toBe('<span class="ansi-green ansi-bold">ok</span>');
    expect(ansiToHtml(`${ESC}[94;41mx`)).toBe(
      '<span class="ansi-bright-blue ansi-bg-red">x</span>',
    );
  });

  it('renders an IPython traceback line', () => {
    const line = `${ESC}[0;31mZeroDivisionError${ESC}[0m: division by zero`;
    const html = ansiToHtml(line);
    expect(html).toContain('<span class="ansi-red">ZeroDivisionError</span>');
    expect(html).toContain(': division by zero');
    expect(html).not.toContain(ESC);
  });

  it('supports 256-colour and true-colour codes', () => {
    expect(ansiToHtml(`${ESC}[38;5;1ma`)).toBe('<span class="ansi-red">a</span>');
    expect(ansiToHtml(`${ESC}[38;5;9mb`)).toBe('<span class="ansi-bright-red">b</span>');
    expect(ansiToHtml(`${ESC}[38;5;196mc`)).toBe('<span style="color: rgb(255, 0, 0)">c</span>');
    expect(ansiToHtml(`${ESC}[48;2;1;2;3md`)).toBe(
      '<span style="background-color: rgb(1, 2, 3)">d</span>',
    );
    // The arguments of an extended colour are not read as codes of their own (1 = bold).
    expect(ansiToHtml(`${ESC}[38;2;1;1;1me`)).not.toContain('ansi-bold');
  });

  it('drops escape sequences that are not colours', () => {
    expect(ansiToHtml(`a${ESC}[2Kb${ESC}[1Ac${ESC}]0;title${ESC}\\d`)).toBe('abcd');
  });

  it('escapes text inside coloured spans', () => {
    expect(ansiToHtml(`${ESC}[31m<script>`)).toBe('<span class="ansi-red">&lt;script&gt;</span>');
  });
});

describe('helpers', () => {
  it('strips every escape sequence', () => {
    expect(stripAnsi(`${ESC}[0;31mError${ESC}[0m: x`)).toBe('Error: x');
  });

  it('escapes', () => {
    expect(escapeHtml('a<b')).toBe('a&lt;b');
  });

  it('knows the 256-colour palette', () => {
    expect(palette256(16)).toBe('rgb(0, 0, 0)');
    expect(palette256(231)).toBe('rgb(255, 255, 255)');
    expect(palette256(232)).toBe('rgb(8, 8, 8)');
    expect(palette256(255)).toBe('rgb(238, 238, 238)');
  });
});
