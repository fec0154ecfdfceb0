/** The sandbox a kernel runs in, in words: its limits, and why a kernel died. */

/** Limits as the server describes them (GET /ide/api/sandbox, …/kernels/<id>/sandbox). */
export interface SandboxLimits {
  cpus: number | null;
  memoryMb: number | null;
  timeLimitS: number | null;
  pids: number | null;
  runtime: string | null;
}

export interface SandboxInfo {
  /** 'docker', 'auto' or 'local'. */
  mode: string;
  engine: boolean;
  limits: SandboxLimits;
}

export interface KernelExit {
  reason: string;
  exitCode: number | null;
  oomKilled: boolean;
}

export interface KernelSandbox {
  sandboxed: boolean;
  limits: SandboxLimits | null;
  lastExit: KernelExit | null;
  deaths: number;
}

const MIB = 1024 * 1024;

function num(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Read the server's limits summary ({cpus, memory_mb, time_limit_s, pids, runtime}). */
export function parseLimits(data: unknown): SandboxLimits {
  const raw = record(data);
  return {
    cpus: num(raw.cpus),
    memoryMb: num(raw.memory_mb),
    timeLimitS: num(raw.time_limit_s),
    pids: num(raw.pids),
    runtime: typeof raw.runtime === 'string' && raw.runtime ? raw.runtime : null,
  };
}

/** Read GET /ide/api/sandbox. */
export function parseSandbox(data: unknown): SandboxInfo {
  const raw = record(data);
  return {
    mode: String(raw.mode ?? ''),
    engine: raw.engine === true,
    limits: parseLimits(raw.limits),
  };
}

/** Read GET /ide/api/kernels/<id>/sandbox. */
export function parseKernelSandbox(data: unknown): KernelSandbox {
  const raw = record(data);
  const exit = raw.last_exit ? record(raw.last_exit) : null;
  return {
    sandboxed: raw.sandboxed === true,
    limits: raw.limits ? parseLimits(raw.limits) : null,
    lastExit:
      exit && typeof exit.reason === 'string'
        ? {
            reason: exit.reason,
            exitCode: num(exit.exit_code),
            oomKilled: exit.oom_killed === true,
          }
        : null,
    deaths: num(raw.deaths) ?? 0,
  };
}

/**
 * A kernelspec's limits: the server's defaults with the spec's own
 * (metadata.kernel_provisioner.config.limits, in the profile's field names) over them.
 * Null for a spec that does not name a provisioner config: it is not sandboxed.
 */
export function specLimits(
  metadata: Record<string, unknown> | undefined,
  defaults: SandboxLimits | null,
): SandboxLimits | null {
  const provisioner = record(metadata?.kernel_provisioner);
  if (!Object.keys(provisioner).length || !('config' in provisioner)) {
    return null;
  }
  const own = record(record(provisioner.config).limits);
  const base: SandboxLimits = defaults ?? {
    cpus: null,
    memoryMb: null,
    timeLimitS: null,
    pids: null,
    runtime: null,
  };
  const memory = num(own.memory_bytes);
  return {
    cpus: num(own.cpus) ?? base.cpus,
    memoryMb: memory !== null ? Math.round(memory / MIB) : base.memoryMb,
    timeLimitS: num(own.time_limit) ?? base.timeLimitS,
    pids: num(own.pids) ?? base.pids,
    runtime: (typeof own.runtime === 'string' && own.runtime) || base.runtime,
  };
}

/** "1 CPU · 512 MB · 30 s per run" (only the parts known). */
export function formatLimits(limits: SandboxLimits | null): string {
  if (!limits) {
    return '';
  }
  const parts: string[] = [];
  if (limits.cpus !== null) {
    parts.push(`${limits.cpus} CPU${limits.cpus === 1 ? '' : 's'}`);
  }
  if (limits.memoryMb !== null) {
    parts.push(limits.memoryMb >= 1024 ? `${limits.memoryMb / 1024} GB` : `${limits.memoryMb} MB`);
  }
  if (limits.timeLimitS !== null) {
    parts.push(`${limits.timeLimitS} s per run`);
  }
  return parts.join(' · ');
}

/** The sentence shown when a kernel died: "Kernel died: out of memory". */
export function deathMessage(exit: KernelExit): string {
  const reason = exit.oomKilled && !/memory/i.test(exit.reason) ? 'out of memory' : exit.reason;
  return `Kernel died: ${reason}`;
}
