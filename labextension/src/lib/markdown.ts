/** An assistant's markdown as safe pieces: sanitised HTML, and code blocks kept as plain text. */
import DOMPurify from 'dompurify';
import { marked, type Token } from 'marked';

export type Segment =
  { kind: 'html'; html: string } | { kind: 'code'; language: string; code: string };

/** Markdown to HTML that is safe to put in the page: no scripts, handlers or javascript: links. */
export function safeHtml(markdown: string): string {
  return DOMPurify.sanitize(marked.parse(markdown, { async: false }), {
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'],
  });
}

/**
 * Split markdown into runs of sanitised HTML and the top-level fenced or indented code blocks
 * between them, so each code block can get its own buttons. A block still being streamed (an
 * open fence) is a code block already.
 */
export function splitMarkdown(markdown: string): Segment[] {
  const segments: Segment[] = [];
  let pending: Token[] = [];
  const flush = () => {
    if (pending.length) {
      const raw = pending.map((t) => t.raw).join('');
      const html = safeHtml(raw);
      if (html.trim()) {
        segments.push({ kind: 'html', html });
      }
      pending = [];
    }
  };
  for (const token of marked.lexer(markdown)) {
    if (token.type === 'code') {
      flush();
      const language = typeof token.lang === 'string' ? token.lang.trim().split(/\s+/)[0] : '';
      segments.push({ kind: 'code', language: language ?? '', code: String(token.text) });
    } else {
      pending.push(token);
    }
  }
  flush();
  return segments;
}
