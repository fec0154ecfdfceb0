import { describe, expect, it } from 'vitest';
import { cancellable, updateUpload, uploadLabel, uploadPercent, type UploadItem } from './uploads';

const item: UploadItem = { id: 1, path: 'a/big.bin', sent: 0, total: 3_000_000, state: 'queued' };

describe('uploads', () => {
  it('reports whole percents of the bytes acknowledged', () => {
    expect(uploadPercent(item)).toBe(0);
    expect(uploadPercent({ ...item, sent: 1_048_576 })).toBe(34);
    expect(uploadPercent({ ...item, sent: 3_000_000 })).toBe(100);
    expect(uploadPercent({ ...item, total: 0, state: 'done' })).toBe(100);
  });

  it('labels each state and allows cancel only before the end', () => {
    expect(uploadLabel(item)).toBe('waiting');
    expect(uploadLabel({ ...item, state: 'uploading', sent: 1_500_000 })).toBe('50%');
    expect(uploadLabel({ ...item, state: 'cancelled' })).toBe('cancelled');
    expect(cancellable({ ...item, state: 'uploading' })).toBe(true);
    expect(cancellable({ ...item, state: 'done' })).toBe(false);
    expect(cancellable({ ...item, state: 'failed' })).toBe(false);
  });

  it('updates one upload only', () => {
    const two = [item, { ...item, id: 2 }];
    expect(updateUpload(two, 2, { sent: 10 }).map((u) => u.sent)).toEqual([0, 10]);
  });
});
