/** Markdown as safe pieces: sanitised HTML, and code blocks kept as plain text. */
import { marked, type Token } from 'marked';
import { NO_REMOTE, sanitizeMarkdownHtml, type ContentPolicy } from './sanitize';

export type Segment =
  { kind: 'html'; html: string } | { kind: 'code'; language: string; code: string };

/**
 * Markdown to HTML that is safe to put in the page: an allowlist of text tags, no scripts,
 * styles, forms or javascript: links, and images only from where ``policy`` allows.
 */
export function safeHtml(markdown: string, policy: ContentPolicy = NO_REMOTE): string {
  return sanitizeMarkdownHtml(marked.parse(markdown, { async: false }), policy);
}

/**
 * Split markdown into runs of sanitised HTML and the top-level fenced or indented code blocks
 * between them, so each code block can get its own buttons. A block still being streamed (an
 * open fence) is a code block already.
 */
export function splitMarkdown(markdown: string, policy: ContentPolicy = NO_REMOTE): Segment[] {
  const segments: Segment[] = [];
  let pending: Token[] = [];
  const flush = () => {
    if (pending.length) {
      const raw = pending.map((t) => t.raw).join('');
      const html = safeHtml(raw, policy);
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
