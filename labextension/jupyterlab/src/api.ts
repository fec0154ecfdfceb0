/** One typed client for jupyter-ide's /ide/api/* under the server's base URL (XSRF included). */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { AIMode, ChatRequest } from './prompts';
import { readChat, type ChatEvent } from './sse';

export const COURSE_HEADER = 'X-IDE-Course';

/** The AI policy in force now (GET /ide/api/ai/policy). */
export interface Policy {
  course: string | null;
  courses: string[];
  mode: AIMode;
  reason: string | null;
}

/** One quota and how much of it is used. */
export interface Quota {
  name: string;
  used: number;
  limit: number;
}

/** The caller's AI usage (GET /ide/api/ai/usage). */
export interface Usage {
  totalTokens: number;
  limits: Quota[];
  warning: string | null;
}

/** One subsystem of GET /ide/api/health. */
export interface Subsystem {
  state: string;
  detail: string;
}

/** A judge run, outputs decoded. */
export interface Run {
  token: string;
  statusId: number;
  status: string;
  stdout: string;
  stderr: string;
  compileOutput: string;
  message: string;
  time: string | null;
}

function record(data: unknown): Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data)
    ? (data as Record<string, unknown>)
    : {};
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value ? value : null;
}

/** Read a policy answer; an unknown mode counts as off. */
export function parsePolicy(data: unknown): Policy {
  const raw = record(data);
  const mode = ['off', 'hint', 'full'].includes(String(raw.mode)) ? (raw.mode as AIMode) : 'off';
  return {
    course: text(raw.course),
    courses: Array.isArray(raw.courses) ? raw.courses.map(String) : [],
    mode,
    reason: text(raw.reason),
  };
}

/** Read a usage answer: token total and quota limits. */
export function parseUsage(data: unknown): Usage {
  const raw = record(data);
  const quota = record(raw.quota);
  const limits = (Array.isArray(quota.limits) ? quota.limits : []).map((item: unknown) => {
    const l = record(item);
    return { name: String(l.name ?? ''), used: Number(l.used ?? 0), limit: Number(l.limit ?? 0) };
  });
  return {
    totalTokens: Number(record(raw.totals).total_tokens ?? 0),
    limits,
    warning: text(quota.warning),
  };
}

/** Base64 (as the judge sends it) to text. */
export function fromBase64(value: unknown): string {
  if (typeof value !== 'string' || !value) {
    return '';
  }
  const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Text to base64 as UTF-8. */
export function toBase64(value: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(value)) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}

/** Read a judge submission (base64 outputs). */
export function parseRun(data: unknown): Run {
  const raw = record(data);
  const status = record(raw.status);
  return {
    token: String(raw.token ?? ''),
    statusId: Number(status.id ?? 0),
    status: String(status.description ?? 'Unknown'),
    stdout: fromBase64(raw.stdout),
    stderr: fromBase64(raw.stderr),
    compileOutput: fromBase64(raw.compile_output),
    message: fromBase64(raw.message),
    time: raw.time === null || raw.time === undefined ? null : String(raw.time),
  };
}

/** Still waiting: In Queue (1) or Processing (2). */
export function isPending(run: Run): boolean {
  return run.statusId === 1 || run.statusId === 2;
}

/** The message of a refused call, for people. */
export async function messageOf(error: unknown): Promise<string> {
  if (error instanceof ServerConnection.ResponseError) {
    try {
      const body = record(await error.response.clone().json());
      const message = text(body.message) ?? text(record(body.error).message);
      if (message) {
        return message;
      }
    } catch {
      // not JSON: the status line says it
    }
    return `${error.response.status} ${error.response.statusText}`;
  }
  return error instanceof Error ? error.message : String(error);
}

const RUN_FIELDS = 'token,status,stdout,stderr,compile_output,message,time';

/** Calls to /ide/api/*, with JupyterLab's server settings (base URL, token, XSRF). */
export class IdeApi {
  course: string | null = null;

  constructor(readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.course ? { [COURSE_HEADER]: this.course, ...extra } : extra;
  }

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    const url = URLExt.join(this.settings.baseUrl, 'ide', 'api', path);
    const response = await ServerConnection.makeRequest(url, init, this.settings);
    if (!response.ok) {
      throw new ServerConnection.ResponseError(response);
    }
    return response;
  }

  private async get(path: string): Promise<unknown> {
    return (await this.request(path, { headers: this.headers() })).json();
  }

  private post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    return this.request(path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: this.headers({ 'Content-Type': 'application/json' }),
      signal,
    });
  }

  /** Each subsystem's state. */
  async health(): Promise<Record<string, Subsystem>> {
    const subsystems = record(record(await this.get('health')).subsystems);
    const out: Record<string, Subsystem> = {};
    for (const [name, value] of Object.entries(subsystems)) {
      const item = record(value);
      out[name] = { state: String(item.state ?? 'broken'), detail: String(item.detail ?? '') };
    }
    return out;
  }

  /** The AI policy in force for the caller (in the chosen course). */
  async policy(): Promise<Policy> {
    return parsePolicy(await this.get('ai/policy'));
  }

  /** The caller's AI usage and quota limits. */
  async usage(): Promise<Usage> {
    const query = this.course ? `?course=${encodeURIComponent(this.course)}` : '';
    return parseUsage(await this.get(`ai/usage${query}`));
  }

  /** The models the caller may use now. */
  async models(): Promise<string[]> {
    const data = record(await this.get('ai/v1/models'));
    return (Array.isArray(data.data) ? data.data : []).flatMap((m: unknown) => {
      const id = text(record(m).id);
      return id ? [id] : [];
    });
  }

  /** A streaming chat answer; a refusal before the first byte (403, 429) throws. */
  async chat(request: ChatRequest, signal?: AbortSignal): Promise<AsyncGenerator<ChatEvent>> {
    const response = await this.post(
      'ai/v1/chat/completions',
      { ...request, stream: true },
      signal,
    );
    if (!response.body) {
      throw new Error('The AI answer had no body');
    }
    return readChat(response.body);
  }

  /** One whole chat completion's text. */
  async complete(request: ChatRequest, signal?: AbortSignal): Promise<string> {
    const response = await this.post('ai/v1/chat/completions', request, signal);
    const data = record(await response.json());
    const first = record(Array.isArray(data.choices) ? data.choices[0] : null);
    return text(record(first.message).content) ?? '';
  }

  /** Submit a program to the judge; answers its token. */
  async submit(source: string, languageId: number, stdin = ''): Promise<string> {
    const response = await this.post('judge/submissions?base64_encoded=true&wait=false', {
      source_code: toBase64(source),
      language_id: languageId,
      stdin: toBase64(stdin),
    });
    const token = text(record(await response.json()).token);
    if (!token) {
      throw new Error('The judge gave no token');
    }
    return token;
  }

  /** A submission's state now. */
  async run(token: string): Promise<Run> {
    const path = `judge/submissions/${encodeURIComponent(token)}?base64_encoded=true&fields=${RUN_FIELDS}`;
    return parseRun(await this.get(path));
  }
}
