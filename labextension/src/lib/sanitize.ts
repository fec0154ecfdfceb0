/**
 * Untrusted HTML (markdown, AI answers, notebook outputs) made safe by explicit allowlists.
 *
 * Two profiles: markdown, shown inside the IDE's own page (no styles, classes, ids, forms or
 * scripts: nothing that can restyle the IDE, phish or run), and outputs, shown in a sandboxed
 * frame of their own (styles and SVG allowed there, still no scripts or forms). In both,
 * images load only from data:, blob:, the server's files and the hosts an admin allowed, so no
 * image can carry a student's code to another server; links open in a new tab.
 */
import DOMPurify, { type Config, type DOMPurify as Purifier } from 'dompurify';

/** What rendered content may load. */
export interface ContentPolicy {
  /** Origins remote images may come from (the admin's allowed_image_hosts). */
  imageHosts: readonly string[];
  /**
   * Absolute URL of the folder relative links and images resolve against (a notebook's folder
   * under /files/); null drops relative images and links.
   */
  filesBase: string | null;
}

export const NO_REMOTE: ContentPolicy = { imageHosts: [], filesBase: null };

const TEXT_TAGS = [
  'a',
  'abbr',
  'b',
  'blockquote',
  'br',
  'caption',
  'code',
  'dd',
  'del',
  'details',
  'div',
  'dl',
  'dt',
  'em',
  'figcaption',
  'figure',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'i',
  'img',
  'ins',
  'kbd',
  'li',
  'mark',
  'ol',
  'p',
  'pre',
  'q',
  's',
  'samp',
  'small',
  'span',
  'strong',
  'sub',
  'summary',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'u',
  'ul',
  'var',
];

const TEXT_ATTRS = [
  'alt',
  'align',
  'colspan',
  'dir',
  'height',
  'href',
  'lang',
  'open',
  'reversed',
  'rowspan',
  'span',
  'src',
  'start',
  'title',
  'valign',
  'width',
];

/** Markdown in the IDE's page: text structure only; task-list boxes stay, disabled. */
const MARKDOWN: Config = {
  ALLOWED_TAGS: [...TEXT_TAGS, 'input'],
  ALLOWED_ATTR: [...TEXT_ATTRS, 'type', 'checked', 'disabled'],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  // The URL rules live in the hooks below; this only has to let blob: through to them.
  ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto|blob):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
};

const SVG_TAGS = [
  'svg',
  'g',
  'path',
  'rect',
  'circle',
  'ellipse',
  'line',
  'polyline',
  'polygon',
  'text',
  'tspan',
  'defs',
  'clippath',
  'lineargradient',
  'radialgradient',
  'stop',
  'marker',
  'pattern',
  'mask',
  'symbol',
  'use',
  'title',
  'desc',
];

const SVG_ATTRS = [
  'clip-path',
  'clip-rule',
  'cx',
  'cy',
  'd',
  'dominant-baseline',
  'dx',
  'dy',
  'fill',
  'fill-opacity',
  'fill-rule',
  'font-family',
  'font-size',
  'font-style',
  'font-weight',
  'gradienttransform',
  'gradientunits',
  'markerheight',
  'markerwidth',
  'marker-end',
  'marker-mid',
  'marker-start',
  'mask',
  'offset',
  'opacity',
  'orient',
  'patternunits',
  'points',
  'preserveaspectratio',
  'r',
  'refx',
  'refy',
  'rx',
  'ry',
  'stop-color',
  'stop-opacity',
  'stroke',
  'stroke-dasharray',
  'stroke-linecap',
  'stroke-linejoin',
  'stroke-opacity',
  'stroke-width',
  'text-anchor',
  'transform',
  'viewbox',
  'x',
  'x1',
  'x2',
  'xmlns',
  'y',
  'y1',
  'y2',
];

/** HTML outputs, isolated in their own frame: may style themselves and draw SVG. */
const OUTPUT: Config = {
  ALLOWED_TAGS: [...TEXT_TAGS, 'style', 'col', 'colgroup', 'center', ...SVG_TAGS],
  ALLOWED_ATTR: [...TEXT_ATTRS, 'class', 'id', 'style', 'border', ...SVG_ATTRS],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: true,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  ALLOWED_URI_REGEXP: MARKDOWN.ALLOWED_URI_REGEXP,
  // A <style> first in the fragment must survive (DOMPurify drops leading ones otherwise).
  FORCE_BODY: true,
};

/** True when ``host`` matches the origin pattern (``https://*.example.edu`` for subdomains). */
function originMatches(url: URL, pattern: string): boolean {
  const match = /^(https?):\/\/(\*\.)?([^/:]+)(?::(\d+))?$/i.exec(pattern.trim());
  if (!match) {
    return false;
  }
  const [, scheme, wildcard, host, port] = match;
  if (`${scheme?.toLowerCase()}:` !== url.protocol) {
    return false;
  }
  const defaultPort = url.protocol === 'https:' ? '443' : '80';
  if ((port ?? defaultPort) !== (url.port || defaultPort)) {
    return false;
  }
  const wanted = (host ?? '').toLowerCase();
  const actual = url.hostname.toLowerCase();
  return wildcard ? actual.endsWith(`.${wanted}`) : actual === wanted;
}

/** True when an image at ``url`` may be loaded under ``hosts`` (the admin's origins). */
export function imageHostAllowed(url: string, hosts: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return hosts.some((pattern) => originMatches(parsed, pattern));
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/** Where a link may point: the web, mail, an anchor, or the files next to the document. */
function safeHref(value: string, policy: ContentPolicy): string | null {
  const href = value.trim();
  if (href.startsWith('#')) {
    return href;
  }
  const scheme = SCHEME.exec(href)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https' || scheme === 'mailto') {
    return href;
  }
  if (scheme === undefined && policy.filesBase && !href.startsWith('//')) {
    return new URL(href, policy.filesBase).href;
  }
  return null;
}

type ImageVerdict = { src: string } | { blocked: string };

/** Where an image may come from; a refusal names the host, for the placeholder. */
function imageSource(value: string, policy: ContentPolicy): ImageVerdict {
  const src = value.trim();
  const scheme = SCHEME.exec(src)?.[1]?.toLowerCase();
  if (scheme === 'data') {
    return /^data:image\/[a-z0-9.+-]+[;,]/i.test(src) ? { src } : { blocked: 'a data: URL' };
  }
  if (scheme === 'blob') {
    return { src };
  }
  if (scheme === 'http' || scheme === 'https' || src.startsWith('//')) {
    const absolute = src.startsWith('//') ? `https:${src}` : src;
    if (imageHostAllowed(absolute, policy.imageHosts)) {
      return { src: absolute };
    }
    let host = 'another server';
    try {
      host = new URL(absolute).host;
    } catch {
      // Not a URL at all: named generically.
    }
    return { blocked: host };
  }
  if (scheme === undefined && policy.filesBase) {
    return { src: new URL(src, policy.filesBase).href };
  }
  return { blocked: scheme ? `a ${scheme}: URL` : 'a relative path' };
}

let current: ContentPolicy = NO_REMOTE;
const blocked = new WeakMap<Element, string>();
const placeholders = new WeakMap<Element, string>();

/** A purifier with our URL hooks; ``current`` is the policy of the call in progress. */
function makePurifier(): Purifier {
  const purifier = DOMPurify(window);
  purifier.addHook('uponSanitizeElement', (node, data) => {
    // Only read-only task-list boxes: no text fields or buttons to phish with.
    if (data.tagName === 'input' && (node as Element).getAttribute('type') !== 'checkbox') {
      node.parentNode?.removeChild(node);
    }
  });
  purifier.addHook('uponSanitizeAttribute', (node, data) => {
    const name = data.attrName;
    if (name === 'href' || name === 'xlink:href') {
      // In SVG only links within the document (a <use> of a remote file would load it).
      const safe = node.nodeName.toLowerCase() === 'a' ? safeHref(data.attrValue, current) : null;
      const local = data.attrValue.trim().startsWith('#') ? data.attrValue.trim() : null;
      const value = safe ?? local;
      if (value === null) {
        data.keepAttr = false;
      } else {
        data.attrValue = value;
      }
    } else if (name === 'src') {
      if (node.nodeName.toLowerCase() !== 'img') {
        data.keepAttr = false;
        return;
      }
      const verdict = imageSource(data.attrValue, current);
      if ('src' in verdict) {
        data.attrValue = verdict.src;
      } else {
        data.keepAttr = false;
        blocked.set(node, verdict.blocked);
      }
    }
  });
  purifier.addHook('afterSanitizeAttributes', (node) => {
    const tag = node.nodeName.toLowerCase();
    if (tag === 'a' && /^(https?|mailto):/i.test(node.getAttribute('href') ?? '')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    } else if (tag === 'input') {
      node.setAttribute('disabled', '');
    } else if (tag === 'img' && blocked.has(node)) {
      // Said in words instead: the span is walked next, and labelled below.
      const from = blocked.get(node) ?? 'another server';
      const note = node.ownerDocument.createElement('span');
      note.textContent = `[image from ${from} not shown]`;
      placeholders.set(note, from);
      node.replaceWith(note);
    } else if (placeholders.has(node)) {
      const from = placeholders.get(node) ?? 'another server';
      node.setAttribute('class', 'blocked-image');
      node.setAttribute(
        'title',
        `Images from ${from} are not allowed here: they could send what is on this page ` +
          'to that server. An admin can allow a host (allowed_image_hosts).',
      );
    }
  });
  return purifier;
}

let markdownPurifier: Purifier | null = null;
let outputPurifier: Purifier | null = null;

function run(purifier: Purifier, html: string, config: Config, policy: ContentPolicy): string {
  current = policy;
  try {
    return String(purifier.sanitize(html, { ...config, RETURN_TRUSTED_TYPE: false }));
  } finally {
    current = NO_REMOTE;
  }
}

/** Rendered markdown (cells, outputs, AI answers) made safe to place in the IDE's page. */
export function sanitizeMarkdownHtml(html: string, policy: ContentPolicy = NO_REMOTE): string {
  markdownPurifier ??= makePurifier();
  return run(markdownPurifier, html, MARKDOWN, policy);
}

/** An HTML output made safe for its sandboxed frame (styles and SVG kept, no scripts, forms). */
export function sanitizeOutputHtml(html: string, policy: ContentPolicy = NO_REMOTE): string {
  outputPurifier ??= makePurifier();
  return run(outputPurifier, html, OUTPUT, policy);
}
