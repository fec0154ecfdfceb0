import { describe, expect, it } from 'vitest';
import {
  deathMessage,
  formatLimits,
  parseKernelSandbox,
  parseSandbox,
  specLimits,
  type SandboxLimits,
} from './sandbox';

const DEFAULTS: SandboxLimits = {
  cpus: 1,
  memoryMb: 512,
  timeLimitS: 30,
  pids: 128,
  runtime: 'runc',
};

describe('parsing', () => {
  it('reads the sandbox and a kernel answer', () => {
    expect(
      parseSandbox({
        mode: 'auto',
        engine: true,
        runtime: 'runc',
        limits: { cpus: 1, memory_mb: 512, time_limit_s: 30, pids: 128, runtime: 'runc' },
        pool: {},
      }),
    ).toEqual({ mode: 'auto', engine: true, limits: DEFAULTS });
    expect(
      parseKernelSandbox({
        kernel_id: 'k',
        sandboxed: true,
        limits: { cpus: 1, memory_mb: 512, time_limit_s: 30, pids: 128, runtime: 'runc' },
        last_exit: { reason: 'out of memory', exit_code: 137, oom_killed: true },
        deaths: 1,
      }),
    ).toEqual({
      sandboxed: true,
      limits: DEFAULTS,
      lastExit: { reason: 'out of memory', exitCode: 137, oomKilled: true },
      deaths: 1,
    });
    expect(parseKernelSandbox({ kernel_id: 'k', sandboxed: false })).toEqual({
      sandboxed: false,
      limits: null,
      lastExit: null,
      deaths: 0,
    });
  });
});

describe('specLimits', () => {
  it("lays a kernelspec's own limits over the server's", () => {
    const metadata = {
      kernel_provisioner: {
        provisioner_name: 'jupyter-ide-docker',
        config: { image: 'x', limits: { memory_bytes: 1024 * 1024 * 1024, time_limit: 10 } },
      },
    };
    expect(specLimits(metadata, DEFAULTS)).toEqual({
      ...DEFAULTS,
      memoryMb: 1024,
      timeLimitS: 10,
    });
    expect(specLimits({ kernel_provisioner: { config: {} } }, DEFAULTS)).toEqual(DEFAULTS);
  });

  it('says nothing of a spec without a provisioner: it is not sandboxed', () => {
    expect(specLimits({}, DEFAULTS)).toBeNull();
    expect(specLimits(undefined, DEFAULTS)).toBeNull();
  });
});

describe('formatLimits and deathMessage', () => {
  it('say the limits and the death in words', () => {
    expect(formatLimits(DEFAULTS)).toBe('1 CPU · 512 MB · 30 s per run');
    expect(formatLimits({ ...DEFAULTS, cpus: 2, memoryMb: 2048, timeLimitS: null })).toBe(
      '2 CPUs · 2 GB',
    );
    expect(formatLimits(null)).toBe('');
    expect(deathMessage({ reason: 'time limit', exitCode: 137, oomKilled: false })).toBe(
      'Kernel died: time limit',
    );
    expect(deathMessage({ reason: 'killed', exitCode: 137, oomKilled: true })).toBe(
      'Kernel died: out of memory',
    );
  });
});
