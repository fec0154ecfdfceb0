/**
 * The document of a sandboxed frame showing one HTML output.
 *
 * The frame runs with an opaque origin (no allow-same-origin), inherits the page's CSP, and
 * carries a stricter one of its own: the only script it may run is our size reporter, which
 * tells the page how tall the output is; images and styles load only as the page allows.
 */

/** The message the frame's reporter posts to the page. */
export const HEIGHT_MESSAGE = 'jupyter-ide:output-height';

/** Where the frame's own files are, and which image hosts the admin allows. */
export interface FrameAssets {
  /** Absolute URL of the size reporter (served with the app). */
  scriptUrl: string;
  /** Absolute URL of the frame's base stylesheet. */
  styleUrl: string;
  /** Origins remote images may come from. */
  imageHosts: readonly string[];
}

/** The sandbox flags: scripts for our reporter only (CSP), links may open new tabs. */
export const FRAME_SANDBOX = 'allow-scripts allow-popups allow-popups-to-escape-sandbox';

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** The policy of the frame itself (on top of the page's, which it inherits). */
export function framePolicy(assets: FrameAssets): string {
  const server = new URL(assets.scriptUrl).origin;
  return [
    "default-src 'none'",
    `script-src ${assets.scriptUrl}`,
    `style-src ${assets.styleUrl} 'unsafe-inline'`,
    ['img-src', server, 'data:', 'blob:', ...assets.imageHosts].join(' '),
    `font-src ${server} data:`,
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The frame's whole document around an already sanitised output body. */
export function frameDocument(sanitizedBody: string, assets: FrameAssets): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${attr(framePolicy(assets))}">` +
    `<link rel="stylesheet" href="${attr(assets.styleUrl)}">` +
    `<script src="${attr(assets.scriptUrl)}"></script>` +
    `</head><body>${sanitizedBody}</body></html>`
  );
}

/** The height a frame reported, or null when the message is not a height report. */
export function reportedHeight(data: unknown): number | null {
  if (typeof data !== 'object' || data === null) {
    return null;
  }
  const message = data as { type?: unknown; height?: unknown };
  if (message.type !== HEIGHT_MESSAGE || typeof message.height !== 'number') {
    return null;
  }
  return Number.isFinite(message.height) ? Math.max(0, Math.ceil(message.height)) : null;
}
