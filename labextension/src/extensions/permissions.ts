/** The permission gate: which permission each runtime call needs, and the decision on it. */

/** An installed extension, as GET /ide/api/marketplace/installs lists it. */
export interface Install {
  name: string;
  displayName: string;
  version: string;
  latestVersion: string | null;
  enabled: boolean;
  granted: string[];
  settings: Record<string, unknown>;
  notice: string | null;
  lockedByCourse: string | null;
  permissions: string[];
  manifest: Record<string, unknown>;
  integrity: string;
}

/** Method -> the permission it needs (the same table as the server's runtime_api). */
export const METHODS: Readonly<Record<string, string>> = {
  'editor.getText': 'editor.read',
  'editor.getSelection': 'editor.read',
  'editor.changed': 'editor.read',
  'editor.setText': 'editor.write',
  'editor.insert': 'editor.write',
  'workspace.readFile': 'workspace.read',
  'workspace.list': 'workspace.read',
  'workspace.changed': 'workspace.read',
  'workspace.writeFile': 'workspace.write',
  'run.code': 'run.code',
  'ai.chat': 'ai.use',
  'panel.setText': 'ui.panel',
  'statusbar.set': 'ui.statusbar',
  'commands.register': 'ui.command',
  command: 'ui.command',
  'settings.get': 'settings',
  'settings.set': 'settings',
};

/** Permissions asked of the user at first use, which they may refuse. */
export const SENSITIVE: ReadonlySet<string> = new Set(['workspace.write', 'run.code', 'ai.use']);

/** What each permission lets an extension do, for people. */
export const PERMISSION_TEXT: Readonly<Record<string, string>> = {
  'editor.read': 'read the open document',
  'editor.write': 'change the open document',
  'workspace.read': 'read files in your workspace',
  'workspace.write': 'write files in your workspace',
  'run.code': 'run code in the sandbox',
  'ai.use': 'use the AI assistant (and your quota)',
  'ui.panel': 'show a panel',
  'ui.statusbar': 'show items in the status bar',
  'ui.command': 'add commands',
  settings: 'keep its settings',
};

export const MAX_TEXT = 1_000_000;
export const MAX_STATUS = 200;

export type Verdict = 'allow' | 'prompt' | 'deny';

export interface Decision {
  decision: Verdict;
  permission: string | null;
  reason: string;
}

function paramsProblem(method: string, params: unknown): string | null {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    return 'params is a JSON object';
  }
  const p = params as Record<string, unknown>;
  if (method.startsWith('workspace.') && method !== 'workspace.changed') {
    const path = p.path ?? (method === 'workspace.list' ? '' : undefined);
    if (typeof path !== 'string') {
      return 'path is a string';
    }
    if (path.startsWith('/') || path.includes('\\') || path.split('/').includes('..')) {
      return "path is relative to the workspace, without '..'";
    }
  }
  for (const key of ['text', 'source', 'content', 'prompt']) {
    const value = p[key];
    if (value !== undefined && value !== null) {
      if (typeof value !== 'string' || value.length > MAX_TEXT) {
        return `${key} is a string of at most ${MAX_TEXT} characters`;
      }
    }
  }
  if (method === 'statusbar.set') {
    if (typeof p.text !== 'string' || p.text.length > MAX_STATUS) {
      return `text is a string of at most ${MAX_STATUS} characters`;
    }
  }
  return null;
}

/** Decide a call by an installed extension; deny by default. */
export function decide(install: Install, method: unknown, params: unknown = {}): Decision {
  if (typeof method !== 'string' || !Object.hasOwn(METHODS, method)) {
    return { decision: 'deny', permission: null, reason: `unknown method ${String(method)}` };
  }
  const permission = METHODS[method] ?? null;
  const deny = (reason: string): Decision => ({ decision: 'deny', permission, reason });
  if (!install.enabled) {
    return deny(install.notice || 'the extension is disabled');
  }
  const problem = paramsProblem(method, params ?? {});
  if (problem) {
    return deny(`bad parameters for ${method}: ${problem}`);
  }
  if (permission === null || !install.permissions.includes(permission)) {
    return deny(`the extension did not declare ${permission}`);
  }
  if (install.granted.includes(permission)) {
    return { decision: 'allow', permission, reason: 'granted' };
  }
  if (SENSITIVE.has(permission)) {
    return { decision: 'prompt', permission, reason: `ask the user to allow ${permission}` };
  }
  return deny(`${permission} is not granted`);
}

/** Asks the user whether an extension may use a sensitive permission. */
export type Ask = (install: Install, permission: string) => Promise<boolean>;

/**
 * The gate one extension's calls pass: the local decision, one question per sensitive
 * permission (a refusal holds for the session), and the server's check where it has one,
 * at every call (a grant revoked elsewhere, in another tab or by an admin, fails the next call).
 */
export class PermissionGate {
  private readonly refused = new Set<string>();
  private readonly asking = new Map<string, Promise<boolean>>();

  constructor(
    private install: Install,
    private readonly ask: Ask,
    private readonly onGranted: (permission: string) => Promise<Install>,
    private readonly serverCheck: ((method: string, params: unknown) => Promise<Decision>) | null,
  ) {}

  /** The install the gate decides for now. */
  get current(): Install {
    return this.install;
  }

  /** Replace the install (after a change in the panel). */
  update(install: Install): void {
    this.install = install;
  }

  /** Resolve when the call may go ahead; throw an Error saying why not otherwise. */
  async check(method: unknown, params: unknown): Promise<void> {
    let local = decide(this.install, method, params);
    if (local.decision === 'prompt' && local.permission) {
      const permission = local.permission;
      if (this.refused.has(permission)) {
        throw new Error(`the user refused ${permission}`);
      }
      let pending = this.asking.get(permission);
      if (!pending) {
        pending = this.ask(this.install, permission);
        this.asking.set(permission, pending);
      }
      const yes = await pending.finally(() => this.asking.delete(permission));
      if (!yes) {
        this.refused.add(permission);
        throw new Error(`the user refused ${permission}`);
      }
      if (!this.install.granted.includes(permission)) {
        this.update(await this.onGranted(permission));
      }
      local = decide(this.install, method, params);
    }
    if (local.decision !== 'allow') {
      throw new Error(local.reason);
    }
    if (this.serverCheck && typeof method === 'string') {
      const remote = await this.serverCheck(method, params);
      if (remote.decision !== 'allow') {
        throw new Error(`the server refused: ${remote.reason}`);
      }
    }
  }
}
