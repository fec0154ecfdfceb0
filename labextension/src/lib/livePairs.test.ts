import { describe, expect, it } from 'vitest';
import { parseLivePairs, unpaired } from './livePairs';

describe('parseLivePairs', () => {
  it('reads pairs and a partner, leaving out malformed pairs', () => {
    const found = parseLivePairs({
      course: 'c1',
      pairs: [
        { students: ['ann', 'bob'], created_by: 'ida', created_at: '2026-11-29T13:00:00Z' },
        { students: ['solo'] },
        { students: ['x', 5] },
      ],
      partner: 'bob',
    });
    expect(found).toEqual({
      course: 'c1',
      pairs: [{ students: ['ann', 'bob'], createdBy: 'ida', createdAt: '2026-11-29T13:00:00Z' }],
      partner: 'bob',
    });
  });

  it('reads an instructor answer without a partner, and junk as nothing', () => {
    expect(parseLivePairs({ course: 'c1', pairs: [] }).partner).toBeNull();
    expect(parseLivePairs(null)).toEqual({ course: '', pairs: [], partner: null });
  });
});

describe('unpaired', () => {
  it('lists the students in no pair yet', () => {
    const pairs = parseLivePairs({ pairs: [{ students: ['ann', 'bob'] }] }).pairs;
    expect(unpaired(['ann', 'bob', 'cat'], pairs)).toEqual(['cat']);
  });
});
