// @vitest-environment node
import { gunzipSync, strFromU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { unpack } from './bundle';
import { untar } from './tar';
import { TARBALLS } from './tar.fixtures';

const LONG = `package/${'d'.repeat(60)}/${'e'.repeat(60)}/long-name.json`;

function bytesOf(format: string): Uint8Array {
  return Uint8Array.from(atob(TARBALLS[format] ?? ''), (c) => c.charCodeAt(0));
}

describe('tar', () => {
  for (const format of ['ustar', 'gnu', 'pax']) {
    it(`reads GNU tar's ${format} archives: files, long names, no links or folders`, () => {
      const files = untar(gunzipSync(bytesOf(format)));
      expect(Object.keys(files).sort()).toEqual(
        [LONG, 'package/package.json', 'package/themes/dark.json'].sort(),
      );
      expect(strFromU8(files['package/themes/dark.json'] ?? new Uint8Array())).toBe(
        '{"colors": {}}',
      );
      expect(strFromU8(files[LONG] ?? new Uint8Array())).toBe('x'.repeat(1500));
    });
  }

  it('unpack() takes a .tgz as well as a zip', () => {
    const data = bytesOf('ustar');
    const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const files = unpack(buffer as ArrayBuffer);
    expect(strFromU8(files['package/package.json'] ?? new Uint8Array())).toBe('{"name": "t"}');
  });

  it('refuses a damaged archive', () => {
    const whole = gunzipSync(bytesOf('ustar'));
    const damaged = whole.slice();
    damaged[10] = (damaged[10] ?? 0) ^ 0xff;
    expect(() => untar(damaged)).toThrow('checksum');
    const body = strFromU8(whole, true).indexOf('x'.repeat(1500));
    expect(() => untar(whole.slice(0, body + 100))).toThrow('ends inside a file');
  });
});
