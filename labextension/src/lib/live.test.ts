import { describe, expect, it } from 'vitest';
import {
  liveFilePaths,
  liveSocket,
  liveStatusLabel,
  parseLiveFiles,
  parseLiveMembers,
  parseLiveRuns,
  ViewerBoard,
  viewersIn,
  viewingNotice,
} from './live';

describe('live view', () => {
  it('builds the sockets of own files and of a member', () => {
    expect(liveSocket('ws://h/base/', null)).toEqual({
      server: 'ws://h/base/ide/api/classroom/live',
      room: 'socket',
    });
    expect(liveSocket('ws://h/base', { course: 'c 1', student: 'ann/x' })).toEqual({
      server: 'ws://h/base/ide/api/classroom/c%201/live/ann%2Fx',
      room: 'socket',
    });
  });

  it('reads viewers from awareness states, sorted, once each', () => {
    expect(viewersIn([{}, { viewers: ['ida', 'bo'] }, { viewers: ['ida', 3] }, null])).toEqual([
      'bo',
      'ida',
    ]);
    expect(viewingNotice([])).toBe('');
    expect(viewingNotice(['ida'])).toBe('Your instructor ida is viewing your work live.');
    expect(viewingNotice(['a', 'b', 'c'])).toContain('a, b and c are viewing');
    expect(viewingNotice(['bob'], 'bob')).toBe('Your partner bob is editing with you live.');
    expect(viewingNotice(['bob', 'ida'], 'bob')).toBe(
      'Your partner bob is editing with you live. Your instructor ida is viewing your work live.',
    );
  });

  it('collects the viewers of every open room and forgets closed ones', () => {
    const board = new ViewerBoard();
    const seen: string[][] = [];
    board.subscribe((v) => seen.push(v));
    const one = board.slot();
    const two = board.slot();
    one.set(['ida']);
    two.set(['ola', 'ida']);
    one.drop();
    two.set([]);
    expect(seen).toEqual([[], ['ida'], ['ida', 'ola'], ['ida', 'ola'], []]);
  });

  it('parses members, files and runs, refusing what is not an object', () => {
    expect(
      parseLiveMembers({ members: [{ name: 'ann', role: 'student', open: ['a.py', 1] }] }),
    ).toEqual([{ name: 'ann', role: 'student', open: ['a.py'] }]);
    const files = parseLiveFiles({
      files: [
        { path: 'lab', kind: 'directory', size: 0, modified: null },
        { path: 'lab/a.py', kind: 'file', size: 3, modified: '2026-01-01' },
      ],
      open: ['lab/a.py'],
    });
    expect(liveFilePaths(files.files)).toEqual(['lab/a.py']);
    expect(files.open).toEqual(['lab/a.py']);
    const [run] = parseLiveRuns({ runs: [{ token: 't', stdout: 'hi\n', exit_code: 0 }] });
    expect(run).toMatchObject({ token: 't', stdout: 'hi\n', stderr: null, exitCode: 0 });
    expect(() => parseLiveRuns('nope')).toThrow();
  });
});

describe('liveStatusLabel', () => {
  it('names each state of a live view, pair editing when writable', () => {
    expect(liveStatusLabel('connecting', false)).toBe('connecting…');
    expect(liveStatusLabel('connected', true)).toBe('connecting…');
    expect(liveStatusLabel('synced', false)).toBe('live');
    expect(liveStatusLabel('synced', true)).toBe('live, pair editing');
    expect(liveStatusLabel('failed', true)).toBe('could not connect');
  });
});
