/** Times as people read them: "14:05" today, "Nov 24 14:05" on another day; sizes in B/KB/MB. */

/** A moment in local time: the time alone when it is today, with the date otherwise. */
export function formatWhen(iso: string, now: Date = new Date()): string {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) {
    return iso;
  }
  const time = when.toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  if (when.toDateString() === now.toDateString()) {
    return time;
  }
  const date = when.toLocaleDateString([], {
    month: 'short',
    day: 'numeric',
    ...(when.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
  });
  return `${date} ${time}`;
}

/** A byte count, short. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  if (bytes < 1024 * 1024) {
    return `${(bytes / 1024).toFixed(1)} KB`;
  }
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
