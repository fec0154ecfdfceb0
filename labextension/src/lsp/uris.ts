/** File paths of the workspace as LSP document URIs under the server's root URI, and back. */

/** The root URI without a trailing slash ("file:///home/u/work"). */
export function normalRoot(root: string): string {
  return root.replace(/\/+$/, '');
}

/** The LSP URI of a workspace path ("src/a b.py" → "file:///root/src/a%20b.py"). */
export function pathToUri(root: string, path: string): string {
  const segments = path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => encodeURIComponent(s));
  return `${normalRoot(root)}/${segments.join('/')}`;
}

/** Decode one URI segment, or null when it is not valid percent-encoding. */
function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** The root's path part, for URIs that spell the root differently (file:/x, %3A in drives). */
function rootPath(root: string): string {
  return normalRoot(root).replace(/^file:\/*/, '/');
}

/** The workspace path of an LSP URI under the root, or null when it is elsewhere. */
export function uriToPath(root: string, uri: string): string | null {
  if (!uri.startsWith('file:')) {
    return null;
  }
  const prefix = `${rootPath(root)}/`;
  const full = uri.replace(/^file:\/*/, '/');
  const decodedPrefix = decodeSegment(prefix) ?? prefix;
  let rest: string;
  if (full.startsWith(prefix)) {
    rest = full.slice(prefix.length);
  } else if ((decodeSegment(full) ?? '').startsWith(decodedPrefix)) {
    // The server spelled the root's characters differently: compare decoded.
    const decoded = decodeSegment(full) ?? '';
    return decoded.slice(decodedPrefix.length).split('/').includes('..')
      ? null
      : decoded.slice(decodedPrefix.length) || null;
  } else {
    return null;
  }
  const parts = rest.split('/').map(decodeSegment);
  if (parts.some((p) => p === null || p === '..' || p === '.' || p.includes('/'))) {
    return null;
  }
  const path = (parts as string[]).filter((p) => p !== '').join('/');
  return path === '' ? null : path;
}
