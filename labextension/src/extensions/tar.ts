/** Read a tar archive (an npm package's .tgz, once gunzipped) into path -> bytes. */

export type TarFiles = Record<string, Uint8Array>;

const BLOCK = 512;
const decoder = new TextDecoder();

function field(header: Uint8Array, start: number, length: number): string {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** A numeric header field: octal text, or GNU's base-256 when the high bit is set. */
function number(header: Uint8Array, start: number, length: number): number {
  const bytes = header.subarray(start, start + length);
  if (((bytes[0] ?? 0) & 0x80) !== 0) {
    let value = (bytes[0] ?? 0) & 0x7f;
    for (const b of bytes.subarray(1)) value = value * 256 + b;
    return value;
  }
  const text = field(header, start, length).trim();
  const value = text ? parseInt(text, 8) : 0;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error('The package is not a valid tar archive (a bad size field)');
  }
  return value;
}

function checksumOk(header: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) {
    sum += i >= 148 && i < 156 ? 32 : (header[i] ?? 0);
  }
  return sum === number(header, 148, 8);
}

/** The ``path`` record of a PAX extended header, if it has one. */
function paxPath(data: Uint8Array): string | null {
  const text = decoder.decode(data);
  let at = 0;
  while (at < text.length) {
    const space = text.indexOf(' ', at);
    const length = parseInt(text.slice(at, space), 10);
    if (space < 0 || !Number.isFinite(length) || length <= 0) break;
    const record = text.slice(space + 1, at + length - 1);
    if (record.startsWith('path=')) return record.slice(5);
    at += length;
  }
  return null;
}

/** Normalise an entry name; null for one that leaves the archive (the store refuses those). */
function safeName(name: string): string | null {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return parts.includes('..') || name.startsWith('/') ? null : parts.join('/');
}

/** Return the regular files of an (uncompressed) tar archive; links and folders are left out. */
export function untar(data: Uint8Array): TarFiles {
  const files: TarFiles = {};
  let offset = 0;
  let longName: string | null = null;
  while (offset + BLOCK <= data.length) {
    const header = data.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header)) {
      throw new Error('The package is not a valid tar archive (a bad header checksum)');
    }
    const size = number(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0);
    const start = offset + BLOCK;
    if (start + size > data.length) {
      throw new Error('The package is not a valid tar archive (it ends inside a file)');
    }
    const body = data.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      longName = paxPath(body) ?? longName;
      continue;
    }
    if (type === 'L') {
      longName = field(body, 0, body.length);
      continue;
    }
    if (type === 'g') continue;
    const prefix = field(header, 257, 6) === 'ustar' ? field(header, 345, 155) : '';
    const raw = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = null;
    const name = safeName(raw);
    if ((type === '0' || type === '\0') && name) {
      files[name] = body.slice();
    }
  }
  return files;
}
