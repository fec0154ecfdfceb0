/** One typed client for jupyter-ide's own endpoints (/ide/api/*). */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export type SubsystemState = 'ok' | 'off' | 'missing' | 'broken';

export interface Subsystem {
  state: SubsystemState;
  detail: string;
}

export interface Health {
  version: string;
  subsystems: Record<string, Subsystem>;
}

const STATES: SubsystemState[] = ['ok', 'off', 'missing', 'broken'];

/** Check the shape of a health answer; throw on anything unexpected. */
export function parseHealth(data: unknown): Health {
  if (typeof data !== 'object' || data === null) {
    throw new Error('health: not an object');
  }
  const raw = data as { version?: unknown; subsystems?: unknown };
  if (typeof raw.subsystems !== 'object' || raw.subsystems === null) {
    throw new Error('health: no subsystems');
  }
  const subsystems: Record<string, Subsystem> = {};
  for (const [name, value] of Object.entries(raw.subsystems as Record<string, unknown>)) {
    const item = (typeof value === 'object' && value !== null ? value : {}) as {
      state?: unknown;
      detail?: unknown;
    };
    const state = STATES.includes(item.state as SubsystemState)
      ? (item.state as SubsystemState)
      : 'broken';
    subsystems[name] = { state, detail: String(item.detail ?? '') };
  }
  return { version: String(raw.version ?? ''), subsystems };
}

/** Read the message of an error answer from the server, for people. */
export async function errorMessage(error: unknown): Promise<string> {
  if (error instanceof ServerConnection.ResponseError) {
    try {
      const body = (await error.response.clone().json()) as { message?: string };
      if (body.message) {
        return body.message;
      }
    } catch {
      // Not JSON: fall back to the error's own message.
    }
    return error.message || `${error.response.status} ${error.response.statusText}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Calls to /ide/api/*, with the server's auth and XSRF handling. */
export class IdeClient {
  constructor(private readonly settings: ServerConnection.ISettings) {}

  private async getJSON(path: string): Promise<unknown> {
    const url = URLExt.join(this.settings.baseUrl, 'ide', 'api', path);
    const response = await ServerConnection.makeRequest(url, {}, this.settings);
    if (!response.ok) {
      throw new ServerConnection.ResponseError(response);
    }
    return response.json();
  }

  /** Each subsystem's state. */
  async health(): Promise<Health> {
    return parseHealth(await this.getJSON('health'));
  }
}
