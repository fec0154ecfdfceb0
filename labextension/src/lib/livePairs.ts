/** Named pair partners of a course's live view: shapes and the parser. */

/** One pair of students an instructor named. */
export interface LivePair {
  students: [string, string];
  createdBy: string;
  createdAt: string | null;
}

/** A course's pairs (instructors see every pair; a student their own, with the partner). */
export interface LivePairs {
  course: string;
  pairs: LivePair[];
  /** A student's partner (null: none, or the caller is an instructor). */
  partner: string | null;
}

function obj(data: unknown): Record<string, unknown> {
  return data !== null && typeof data === 'object' && !Array.isArray(data)
    ? (data as Record<string, unknown>)
    : {};
}

/** Read a pairs answer; a pair without two names is left out. */
export function parseLivePairs(data: unknown): LivePairs {
  const raw = obj(data);
  const items = Array.isArray(raw.pairs) ? raw.pairs : [];
  const pairs = items.flatMap((item): LivePair[] => {
    const p = obj(item);
    const names = Array.isArray(p.students) ? p.students : [];
    if (names.length !== 2 || !names.every((n) => typeof n === 'string')) {
      return [];
    }
    return [
      {
        students: [names[0] as string, names[1] as string],
        createdBy: typeof p.created_by === 'string' ? p.created_by : '',
        createdAt: typeof p.created_at === 'string' ? p.created_at : null,
      },
    ];
  });
  return {
    course: typeof raw.course === 'string' ? raw.course : '',
    pairs,
    partner: typeof raw.partner === 'string' ? raw.partner : null,
  };
}

/** The students of ``names`` not yet in any of ``pairs`` (who may still be paired). */
export function unpaired(names: string[], pairs: LivePair[]): string[] {
  const taken = new Set(pairs.flatMap((p) => p.students));
  return names.filter((n) => !taken.has(n));
}
