import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, chunkPlan } from './download';

describe('chunkPlan', () => {
  it('sends a small file in one piece, without a chunk number', () => {
    expect(chunkPlan(10, 1024)).toEqual([{ number: 0, start: 0, end: 10 }]);
    expect(chunkPlan(0, 1024)).toEqual([{ number: 0, start: 0, end: 0 }]);
    expect(chunkPlan(1024, 1024)).toEqual([{ number: 0, start: 0, end: 1024 }]);
  });

  it('numbers chunks 1, 2, … and marks the last one -1', () => {
    expect(chunkPlan(2500, 1000)).toEqual([
      { number: 1, start: 0, end: 1000 },
      { number: 2, start: 1000, end: 2000 },
      { number: -1, start: 2000, end: 2500 },
    ]);
    expect(chunkPlan(2000, 1000)).toEqual([
      { number: 1, start: 0, end: 1000 },
      { number: -1, start: 1000, end: 2000 },
    ]);
  });
});

describe('base64', () => {
  it('round-trips every byte value', () => {
    const bytes = new Uint8Array(256 * 3).map((_, i) => i % 256);
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
  });

  it('matches the standard encoding', () => {
    expect(bytesToBase64(new TextEncoder().encode('hello'))).toBe('aGVsbG8=');
    expect(new TextDecoder().decode(base64ToBytes('aGVs\nbG8='))).toBe('hello');
  });

  it('encodes large buffers without overflowing the call stack', () => {
    const bytes = new Uint8Array(3 * 1024 * 1024).fill(7);
    expect(base64ToBytes(bytesToBase64(bytes)).length).toBe(bytes.length);
  });
});
