import { describe, expect, it } from 'vitest';
import { serversToWarm } from './warm';

const SPECS = {
  pylsp: { languages: ['python'] },
  clangd: { languages: ['c', 'cpp', 'c++'] },
  gopls: { languages: ['go'] },
  'bash-language-server': { languages: ['bash', 'sh', 'shell', 'shellscript'] },
};

describe('serversToWarm', () => {
  it('picks the servers of the most frequent languages, most first', () => {
    const paths = ['a.py', 'b.py', 'w1/main.c', 'w1/util.h', 'w1/x.cpp', 'run.sh', 'c.py', 'd.py'];
    expect(serversToWarm(paths, SPECS)).toEqual(['pylsp', 'clangd']);
    expect(serversToWarm(paths, SPECS, 3)).toEqual(['pylsp', 'clangd', 'bash-language-server']);
  });

  it('skips files no listed server serves', () => {
    expect(serversToWarm(['Main.java', 'notes.md', 'lib.rs', 'data.csv'], SPECS)).toEqual([]);
    expect(serversToWarm(['a.py'], {})).toEqual([]);
    expect(serversToWarm([], SPECS)).toEqual([]);
  });
});
