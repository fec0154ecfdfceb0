import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, chunkPlan } from './download';

describe('uploads', () => {
  it('sends small files whole', () => {
    expect(chunkPlan(10, 100)).toEqual([{ number: 0, start: 0, end: 10 }]);
  });
  it('numbers chunks 1, 2, … and marks the last with -1', () => {
    expect(chunkPlan(250, 100)).toEqual([
      { number: 1, start: 0, end: 100 },
      { number: 2, start: 100, end: 200 },
      { number: -1, start: 200, end: 250 },
    ]);
  });
  it('round-trips bytes through base64', () => {
    const bytes = new Uint8Array([0, 255, 1, 128, 64]);
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
  });
});
