import { describe, expect, it } from 'vitest';
import { safeHtml, splitMarkdown } from './markdown';

describe('safeHtml', () => {
  it('renders markdown', () => {
    const html = safeHtml('# Title\n\nSome **bold** and `code`.');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<code>code</code>');
  });

  it('drops scripts, event handlers, javascript: links and forms', () => {
    const html = safeHtml(
      [
        '<script>alert(1)</script>',
        '<img src="x" onerror="alert(2)">',
        '[click](javascript:alert(3))',
        '<a href="javascript:alert(4)">a</a>',
        '<iframe src="https://evil.example"></iframe>',
        '<form action="/x"><input name="p"><button>go</button></form>',
        '<div style="background:url(x)" onclick="alert(5)">box</div>',
      ].join('\n\n'),
    );
    expect(html).not.toMatch(/<script|onerror|onclick|javascript:|<iframe|<form|<input|<button/i);
    expect(html).toContain('box');
  });
});

describe('splitMarkdown', () => {
  it('keeps code blocks as plain text between sanitised HTML', () => {
    const segments = splitMarkdown(
      'Try this:\n\n```python\nprint("<b>hi</b>")\n```\n\nThen <script>x()</script> run it.',
    );
    expect(segments).toHaveLength(3);
    expect(segments[0]).toEqual({ kind: 'html', html: expect.stringContaining('Try this:') });
    expect(segments[1]).toEqual({ kind: 'code', language: 'python', code: 'print("<b>hi</b>")' });
    const last = segments[2];
    expect(last?.kind).toBe('html');
    expect(last?.kind === 'html' && last.html).not.toContain('<script');
  });

  it('takes a fence still open while streaming as a code block', () => {
    const segments = splitMarkdown('Here:\n\n```js\nconst a = 1;\nconst b');
    expect(segments.at(-1)).toEqual({
      kind: 'code',
      language: 'js',
      code: 'const a = 1;\nconst b',
    });
  });

  it('reads the first word of the info string as the language, none when absent', () => {
    expect(splitMarkdown('```c title="x.c"\nint x;\n```')[0]).toEqual({
      kind: 'code',
      language: 'c',
      code: 'int x;',
    });
    expect(splitMarkdown('```\nplain\n```')[0]).toEqual({
      kind: 'code',
      language: '',
      code: 'plain',
    });
  });

  it('returns nothing for empty text', () => {
    expect(splitMarkdown('')).toEqual([]);
    expect(splitMarkdown('\n\n')).toEqual([]);
  });
});

describe('safeHtml with the content policy', () => {
  it('shows no remote image, style or class from markdown', () => {
    const html = safeHtml(
      '![leak](https://evil.example/leak.png?code=secret)\n\n' +
        '<p class="banner" style="color:red">styled</p>\n\n<style>body{display:none}</style>',
    );
    expect(html).not.toMatch(/evil\.example\/|<style|class="banner"|style=/);
    expect(html).toContain('[image from evil.example not shown]');
    expect(html).toContain('styled');
  });

  it('shows a remote image from a host the admin allowed', () => {
    const html = safeHtml('![ok](https://images.example.edu/ok.png)', {
      imageHosts: ['https://images.example.edu'],
      filesBase: null,
    });
    expect(html).toContain('src="https://images.example.edu/ok.png"');
  });
});
