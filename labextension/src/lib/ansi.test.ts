import { describe, expect, it } from 'vitest';
import { ansiToHtml, escapeHtml, stripAnsi } from './ansi';

describe('ansiToHtml', () => {
  it('turns colour codes into classed spans', () => {
    const html = ansiToHtml('\x1b[0;31mZeroDivisionError\x1b[0m: division by zero');
    expect(html).toBe('<span class="ansi-red">ZeroDivisionError</span>: division by zero');
  });
  it('escapes HTML in the text, so a traceback cannot inject markup', () => {
    expect(ansiToHtml('<img src=x onerror=alert(1)>')).toBe('&lt;img src=x onerror=alert(1)&gt;');
  });
  it('handles bold, bright colours and resets', () => {
    const html = ansiToHtml('\x1b[1;92mok\x1b[39m plain');
    expect(html).toBe(
      '<span class="ansi-bright-green ansi-bold">ok</span><span class="ansi-bold"> plain</span>',
    );
  });
  it('skips 256-colour arguments and other escapes', () => {
    expect(ansiToHtml('\x1b[38;5;208mx\x1b[0m\x1b[2K')).toBe('x');
  });
});

describe('helpers', () => {
  it('strips escapes and escapes html', () => {
    expect(stripAnsi('\x1b[31mred\x1b[0m')).toBe('red');
    expect(escapeHtml(`"&'`)).toBe('&quot;&amp;&#39;');
  });
});
