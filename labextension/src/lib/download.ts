/** Save bytes or a URL to the user's disk through a temporary link. */

/** Start a browser download of a URL. */
export function downloadUrl(url: string, name: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

/** Start a browser download of bytes. */
export function downloadBytes(bytes: Uint8Array, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  downloadUrl(url, name);
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Encode bytes as base64 (for the contents API). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

/** Decode base64 into bytes. */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text.replace(/\s/g, ''));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

/** Split a size into upload chunks: numbered 1, 2, … and -1 for the last one. */
export function chunkPlan(
  size: number,
  chunkSize: number,
): { number: number; start: number; end: number }[] {
  if (size <= chunkSize) {
    return [{ number: 0, start: 0, end: size }];
  }
  const plan = [];
  let number = 1;
  for (let start = 0; start < size; start += chunkSize) {
    const end = Math.min(start + chunkSize, size);
    plan.push({ number: end === size ? -1 : number, start, end });
    number += 1;
  }
  return plan;
}
