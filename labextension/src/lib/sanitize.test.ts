import { describe, expect, it } from 'vitest';
import {
  imageHostAllowed,
  sanitizeMarkdownHtml,
  sanitizeOutputHtml,
  type ContentPolicy,
} from './sanitize';

const NOTEBOOK: ContentPolicy = {
  imageHosts: ['https://images.example.edu', 'https://*.cdn.example.org'],
  filesBase: 'http://127.0.0.1:8888/files/course/',
};

/** Parse sanitised HTML to query it like a browser would. */
function parse(html: string): HTMLElement {
  const host = document.createElement('div');
  host.innerHTML = html;
  return host;
}

const ATTACKS = [
  '<script>window.pwned = 1</script>',
  '<img src="x" onerror="window.pwned = 2">',
  '<a href="javascript:alert(3)">js link</a>',
  '<a href="JaVaScRiPt&#58;alert(4)">entity link</a>',
  '<a href="data:text/html,<script>alert(5)</script>">data link</a>',
  '<iframe src="https://evil.example/frame"></iframe>',
  '<object data="https://evil.example/x.swf"></object>',
  '<embed src="https://evil.example/x">',
  '<form action="https://evil.example/phish"><input name="password"><button>Sign in</button></form>',
  '<meta http-equiv="refresh" content="0;url=https://evil.example">',
  '<base href="https://evil.example/">',
  '<link rel="stylesheet" href="https://evil.example/x.css">',
  '<svg><script>alert(6)</script><image href="https://evil.example/svg.png"/></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(7)></style></mglyph></table></mtext></math>',
  '<div onclick="alert(8)" onmouseover="alert(9)">handlers</div>',
];

describe('sanitizeMarkdownHtml', () => {
  it('keeps the text structure markdown makes', () => {
    const html = sanitizeMarkdownHtml(
      '<h2>Title</h2><p><strong>b</strong> <em>i</em> <code>c</code> <del>d</del></p>' +
        '<ul><li>one</li></ul><ol start="3"><li>three</li></ol><blockquote>q</blockquote>' +
        '<table><thead><tr><th align="left">h</th></tr></thead><tbody><tr><td>v</td></tr></tbody></table>' +
        '<pre><code>x = 1</code></pre><hr><details open><summary>s</summary>more</details>',
    );
    const dom = parse(html);
    for (const tag of ['h2', 'strong', 'em', 'code', 'del', 'ul', 'ol', 'blockquote', 'table']) {
      expect(dom.querySelector(tag), tag).not.toBeNull();
    }
    expect(dom.querySelector('ol')?.getAttribute('start')).toBe('3');
    expect(dom.querySelector('th')?.getAttribute('align')).toBe('left');
    expect(dom.querySelector('details')?.hasAttribute('open')).toBe(true);
  });

  it('drops scripts, handlers, forms, frames, meta, base, links and javascript: URLs', () => {
    const dom = parse(sanitizeMarkdownHtml(ATTACKS.join('\n')));
    expect(
      dom.querySelectorAll(
        'script, iframe, object, embed, form, input, button, meta, base, link, svg, math, style',
      ),
    ).toHaveLength(0);
    for (const element of dom.querySelectorAll('*')) {
      for (const { name, value } of element.attributes) {
        expect(name.startsWith('on'), `${element.tagName} ${name}`).toBe(false);
        expect(value).not.toMatch(/javascript:|data:text|evil\.example/i);
      }
    }
    expect(dom.textContent).toContain('js link');
    expect(dom.textContent).toContain('handlers');
  });

  it('removes every style, class and id: content cannot restyle or clobber the IDE', () => {
    const dom = parse(
      sanitizeMarkdownHtml(
        '<style>.explorer{display:none}</style><div class="banner banner-error" id="root" ' +
          'style="position:fixed;inset:0">fake banner</div><span style="color:red">x</span>',
      ),
    );
    expect(dom.querySelector('style')).toBeNull();
    expect(dom.querySelector('[style], [class], [id]')).toBeNull();
    expect(dom.textContent).toContain('fake banner');
  });

  it('blocks remote images unless their host is allowed, and says so', () => {
    const dom = parse(
      sanitizeMarkdownHtml(
        '<img src="https://evil.example/leak.png?code=secret" alt="x">' +
          '<img src="//evil.example/protocol-relative.png">' +
          '<img src="https://images.example.edu/ok.png">' +
          '<img src="https://a.cdn.example.org/ok.png">' +
          '<img src="https://cdn.example.org.evil.example/no.png">' +
          '<img src="http://images.example.edu/plain-http.png">',
        NOTEBOOK,
      ),
    );
    const sources = [...dom.querySelectorAll('img')].map((img) => img.getAttribute('src'));
    expect(sources).toEqual([
      'https://images.example.edu/ok.png',
      'https://a.cdn.example.org/ok.png',
    ]);
    const blocked = [...dom.querySelectorAll('span.blocked-image')];
    expect(blocked.map((b) => b.textContent)).toEqual([
      '[image from evil.example not shown]',
      '[image from evil.example not shown]',
      '[image from cdn.example.org.evil.example not shown]',
      '[image from images.example.edu not shown]',
    ]);
    expect(blocked[0]?.getAttribute('title')).toContain('allowed_image_hosts');
  });

  it('keeps data:, blob: and relative images (as the document folder files)', () => {
    const dom = parse(
      sanitizeMarkdownHtml(
        '<img src="data:image/png;base64,iVBORw0KGgo=">' +
          '<img src="blob:http://127.0.0.1:8888/5b6e">' +
          '<img src="plots/fig 1.png">' +
          '<img src="data:text/html;base64,PHNjcmlwdD4=">',
        NOTEBOOK,
      ),
    );
    expect([...dom.querySelectorAll('img')].map((img) => img.getAttribute('src'))).toEqual([
      'data:image/png;base64,iVBORw0KGgo=',
      'blob:http://127.0.0.1:8888/5b6e',
      'http://127.0.0.1:8888/files/course/plots/fig%201.png',
    ]);
    expect(dom.querySelector('.blocked-image')?.textContent).toBe(
      '[image from a data: URL not shown]',
    );
  });

  it('drops relative images and links where there is no document (AI answers)', () => {
    const dom = parse(sanitizeMarkdownHtml('<img src="fig.png"><a href="notes.md">notes</a>'));
    expect(dom.querySelector('img')).toBeNull();
    expect(dom.textContent).toContain('[image from a relative path not shown]');
    expect(dom.querySelector('a')?.getAttribute('href')).toBeNull();
  });

  it('opens web links in a new tab without a referrer; anchors stay in place', () => {
    const dom = parse(
      sanitizeMarkdownHtml(
        '<a href="https://docs.python.org/3/">docs</a><a href="#part-2">part 2</a>' +
          '<a href="mailto:teacher@example.edu">mail</a><a href="notes.md">notes</a>',
        NOTEBOOK,
      ),
    );
    const [web, anchor, mail, file] = [...dom.querySelectorAll('a')];
    expect(web?.getAttribute('target')).toBe('_blank');
    expect(web?.getAttribute('rel')).toBe('noopener noreferrer');
    expect(anchor?.getAttribute('href')).toBe('#part-2');
    expect(anchor?.hasAttribute('target')).toBe(false);
    expect(mail?.getAttribute('href')).toBe('mailto:teacher@example.edu');
    expect(file?.getAttribute('href')).toBe('http://127.0.0.1:8888/files/course/notes.md');
  });

  it('keeps task-list boxes, disabled, and nothing else of forms', () => {
    const dom = parse(
      sanitizeMarkdownHtml(
        '<ul><li><input type="checkbox" checked> done</li></ul><input type="text" value="pw">',
      ),
    );
    const inputs = dom.querySelectorAll('input');
    expect(inputs).toHaveLength(1);
    expect(inputs[0]?.getAttribute('type')).toBe('checkbox');
    expect(inputs[0]?.hasAttribute('disabled')).toBe(true);
  });
});

describe('sanitizeOutputHtml', () => {
  it('keeps styles, classes, tables and SVG for the isolated frame', () => {
    const dom = parse(
      sanitizeOutputHtml(
        '<style scoped>.dataframe td{color:red}</style><table class="dataframe" border="1">' +
          '<tr><td style="text-align:right">1</td></tr></table>' +
          '<svg viewBox="0 0 10 10"><path d="M0 0L10 10" stroke="red"/><use href="#p"/></svg>',
      ),
    );
    expect(dom.querySelector('style')?.textContent).toContain('.dataframe');
    expect(dom.querySelector('table')?.getAttribute('class')).toBe('dataframe');
    expect(dom.querySelector('td')?.getAttribute('style')).toBe('text-align:right');
    expect(dom.querySelector('path')?.getAttribute('d')).toBe('M0 0L10 10');
    expect(dom.querySelector('use')?.getAttribute('href')).toBe('#p');
  });

  it('still drops scripts, handlers, forms, frames and remote loads', () => {
    const dom = parse(
      sanitizeOutputHtml(
        ATTACKS.join('\n') +
          '<svg><use href="https://evil.example/sprite.svg#x"/></svg>' +
          '<img src="https://evil.example/out.png">',
        NOTEBOOK,
      ),
    );
    expect(
      dom.querySelectorAll('script, iframe, object, embed, form, input, button, meta, base, link'),
    ).toHaveLength(0);
    for (const element of dom.querySelectorAll('*')) {
      for (const { name, value } of element.attributes) {
        expect(name.startsWith('on'), `${element.tagName} ${name}`).toBe(false);
        expect(value).not.toMatch(/javascript:|evil\.example\/(?!.*not shown)/i);
      }
    }
    expect(dom.querySelector('use')?.hasAttribute('href')).toBe(false);
    // Only the relative image is left (as the notebook folder's file), without its handler.
    const images = [...dom.querySelectorAll('img')];
    expect(images.map((img) => img.getAttribute('src'))).toEqual([`${NOTEBOOK.filesBase}x`]);
    expect(dom.querySelector('span.blocked-image')?.textContent).toContain('evil.example');
  });
});

describe('imageHostAllowed', () => {
  it('matches scheme, host and port exactly; *. means subdomains only', () => {
    const hosts = ['https://img.example.edu', 'https://*.example.org', 'http://lab.local:8080'];
    expect(imageHostAllowed('https://img.example.edu/a.png', hosts)).toBe(true);
    expect(imageHostAllowed('https://IMG.example.edu:443/a.png', hosts)).toBe(true);
    expect(imageHostAllowed('http://img.example.edu/a.png', hosts)).toBe(false);
    expect(imageHostAllowed('https://img.example.edu:8443/a.png', hosts)).toBe(false);
    expect(imageHostAllowed('https://x.example.org/a.png', hosts)).toBe(true);
    expect(imageHostAllowed('https://example.org/a.png', hosts)).toBe(false);
    expect(imageHostAllowed('https://example.org.evil.example/a.png', hosts)).toBe(false);
    expect(imageHostAllowed('http://lab.local:8080/a.png', hosts)).toBe(true);
    expect(imageHostAllowed('not a url', hosts)).toBe(false);
    expect(imageHostAllowed('https://img.example.edu/a.png', [])).toBe(false);
  });
});
