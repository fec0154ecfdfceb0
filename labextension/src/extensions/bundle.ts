/** An extension's archive: checked against its integrity hash, unpacked, its code bundled. */
import { gunzipSync, strFromU8, unzipSync } from 'fflate';
import { untar } from './tar';

export type Files = Record<string, Uint8Array>;

const IMPORT = /(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.{1,2}\/[^"']+)\2/g;

function toBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Resolve ``spec`` (./x.js, ../y.js) against the folder of ``from`` inside the archive. */
export function resolvePath(from: string, spec: string): string | null {
  const parts = from.split('/').slice(0, -1);
  for (const part of spec.split('/')) {
    if (part === '..') {
      if (parts.length === 0) {
        return null;
      }
      parts.pop();
    } else if (part !== '.' && part !== '') {
      parts.push(part);
    }
  }
  return parts.join('/');
}

/** Check bytes against a Subresource Integrity string (sha256-<base64>). */
export async function checkIntegrity(data: ArrayBuffer, integrity: string): Promise<void> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  const got = `sha256-${btoa(String.fromCharCode(...digest))}`;
  if (got !== integrity) {
    throw new Error('The package does not match its integrity hash; it was not loaded');
  }
}

/** Unpack an archive (a zip or .vsix, or an npm package's .tgz) into path -> bytes. */
export function unpack(data: ArrayBuffer): Files {
  const bytes = new Uint8Array(data);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return untar(gunzipSync(bytes));
  }
  return unzipSync(bytes);
}

/** Read a text file of the archive, or throw. */
export function text(files: Files, path: string): string {
  const bytes = files[path];
  if (!bytes) {
    throw new Error(`The package has no ${path}`);
  }
  return strFromU8(bytes);
}

/**
 * Bundle the module ``entry`` for the frame: each relative import of a file in the archive
 * becomes a data: URL of that file (bundled the same way), so no request leaves the frame.
 */
export function bundleModule(files: Files, entry: string, seen: string[] = []): string {
  if (seen.includes(entry)) {
    throw new Error(`Import cycle through ${entry}`);
  }
  const source = text(files, entry);
  return source.replace(IMPORT, (_all, head: string, quote: string, spec: string) => {
    const target = resolvePath(entry, spec);
    if (target === null || !files[target]) {
      throw new Error(`${entry} imports ${spec}, which is not in the package`);
    }
    const code = bundleModule(files, target, [...seen, entry]);
    return `${head}${quote}data:text/javascript;base64,${toBase64(code)}${quote}`;
  });
}

/** Return a data: URL of a module's code. */
export function moduleUrl(code: string): string {
  return `data:text/javascript;base64,${toBase64(code)}`;
}
