/** Uploads in progress: how far each file got, and what became of it. */

export type UploadState = 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';

export interface UploadItem {
  id: number;
  path: string;
  /** Bytes the server has acknowledged. */
  sent: number;
  total: number;
  state: UploadState;
}

/** Whole percent of an upload done (100 for an empty file once done). */
export function uploadPercent(item: UploadItem): number {
  if (item.total <= 0) {
    return item.state === 'done' ? 100 : 0;
  }
  return Math.min(100, Math.floor((item.sent / item.total) * 100));
}

/** Replace one upload's fields. */
export function updateUpload(
  items: UploadItem[],
  id: number,
  change: Partial<Omit<UploadItem, 'id'>>,
): UploadItem[] {
  return items.map((item) => (item.id === id ? { ...item, ...change } : item));
}

/** True while an upload can still be cancelled (its last chunk is not sent yet). */
export function cancellable(item: UploadItem): boolean {
  return item.state === 'queued' || item.state === 'uploading';
}

/** What a row says about an upload. */
export function uploadLabel(item: UploadItem): string {
  switch (item.state) {
    case 'queued':
      return 'waiting';
    case 'uploading':
      return `${uploadPercent(item)}%`;
    case 'done':
      return 'done';
    case 'failed':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
  }
}
