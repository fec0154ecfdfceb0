/**
 * The extension runtime: each enabled extension runs in its own sandboxed frame (opaque
 * origin, its code in a worker there) and reaches the IDE only through checked messages.
 * A flood of messages or a missed heartbeat stops it: its frame is removed, the IDE goes on.
 */
import { perform, type ApiDeps } from './api';
import {
  METHODS,
  PermissionGate,
  decide,
  type Ask,
  type Decision,
  type Install,
} from './permissions';
import { clearExtension, setStopped } from './store';

/** The sandbox flags of a runtime frame: scripts only, never the page's origin. */
export const RUNTIME_SANDBOX = 'allow-scripts';

export interface RuntimeOptions {
  /** URL of the frame document (served with the app, its own strict CSP). */
  frameUrl: string;
  /** Where the (hidden) frames live. */
  container: HTMLElement;
  deps: Omit<ApiDeps, 'saveSettings'>;
  ask: Ask;
  grant: (install: Install, permission: string) => Promise<Install>;
  saveSettings: (install: Install, settings: Record<string, unknown>) => Promise<Install>;
  serverCheck: ((name: string, method: string, params: unknown) => Promise<Decision>) | null;
  /** Heartbeat period and how long without an answer means hung (ms). */
  heartbeatMs?: number;
  hangMs?: number;
  /** Messages a second beyond which an extension is stopped; calls a second answered. */
  floodLimit?: number;
  callLimit?: number;
}

interface Running {
  install: Install;
  frame: HTMLIFrameElement;
  gate: PermissionGate;
  code: string;
  subscriptions: Set<string>;
  ready: boolean;
  startedAt: number;
  lastPong: number;
  ping: number;
  windowStart: number;
  messages: number;
  calls: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export class ExtensionRuntime {
  private readonly running = new Map<string, Running>();
  private readonly timers: number[] = [];
  private lastText: string | null = null;
  private lastPath: string | null = null;
  private readonly heartbeatMs: number;
  private readonly hangMs: number;
  private readonly floodLimit: number;
  private readonly callLimit: number;

  constructor(private readonly options: RuntimeOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.hangMs = options.hangMs ?? 4000;
    this.floodLimit = options.floodLimit ?? 300;
    this.callLimit = options.callLimit ?? 100;
    window.addEventListener('message', this.onMessage);
    this.timers.push(window.setInterval(() => this.heartbeat(), this.heartbeatMs));
    this.timers.push(window.setInterval(() => this.watchEditor(), 250));
  }

  /** Names of the extensions running now. */
  get names(): string[] {
    return [...this.running.keys()];
  }

  /** Start an extension's bundled entry module in a new frame. */
  start(install: Install, code: string): void {
    this.stop(install.name, null);
    setStopped(install.name, null);
    const serverCheck = this.options.serverCheck;
    const frame = document.createElement('iframe');
    frame.setAttribute('sandbox', RUNTIME_SANDBOX);
    frame.setAttribute('title', `extension ${install.name}`);
    frame.dataset.extension = install.name;
    frame.className = 'extension-frame';
    frame.src = this.options.frameUrl;
    const running: Running = {
      install,
      frame,
      code,
      gate: new PermissionGate(
        install,
        this.options.ask,
        async (permission) => this.options.grant(running.install, permission),
        serverCheck ? (method, params) => serverCheck(install.name, method, params) : null,
      ),
      subscriptions: new Set(),
      ready: false,
      startedAt: Date.now(),
      lastPong: Date.now(),
      ping: 0,
      windowStart: Date.now(),
      messages: 0,
      calls: 0,
    };
    this.running.set(install.name, running);
    this.options.container.appendChild(frame);
  }

  /** The code an extension runs with now (to tell whether an update needs a restart). */
  codeOf(name: string): string | null {
    return this.running.get(name)?.code ?? null;
  }

  /** Tell a running extension about a change to its install (grants, settings). */
  updateInstall(install: Install): void {
    const running = this.running.get(install.name);
    if (running) {
      running.install = install;
      running.gate.update(install);
    }
  }

  /** Stop an extension: remove its frame (which ends its code) and what it showed. */
  stop(name: string, reason: string | null): void {
    const running = this.running.get(name);
    if (running) {
      this.running.delete(name);
      running.frame.remove();
    }
    clearExtension(name);
    if (reason !== null) {
      setStopped(name, reason);
    }
  }

  /** Send an event to the extension if it subscribed to it. */
  emit(name: string, event: string, data: unknown): void {
    const running = this.running.get(name);
    if (running?.ready && running.subscriptions.has(event)) {
      this.post(running, { type: 'event', name: event, data });
    }
  }

  /** Run one of an extension's commands. */
  runCommand(name: string, id: string): void {
    this.emit(name, 'command', { id });
  }

  /** Stop every extension and the timers. */
  dispose(): void {
    window.removeEventListener('message', this.onMessage);
    for (const timer of this.timers) {
      window.clearInterval(timer);
    }
    for (const name of this.names) {
      this.stop(name, null);
    }
  }

  private post(running: Running, message: unknown): void {
    running.frame.contentWindow?.postMessage(message, '*');
  }

  private find(source: MessageEventSource | null): Running | null {
    for (const running of this.running.values()) {
      if (source !== null && running.frame.contentWindow === source) {
        return running;
      }
    }
    return null;
  }

  private readonly onMessage = (event: MessageEvent): void => {
    // Identity is the check: a frame's origin is opaque ("null").
    const running = this.find(event.source);
    if (!running) {
      return;
    }
    const name = running.install.name;
    const now = Date.now();
    if (now - running.windowStart >= 1000) {
      running.windowStart = now;
      running.messages = 0;
      running.calls = 0;
    }
    running.messages += 1;
    if (running.messages > this.floodLimit) {
      this.stop(name, 'stopped: it sent too many messages');
      return;
    }
    const message: unknown = event.data;
    if (!isObject(message)) {
      return;
    }
    switch (message.type) {
      case 'ready':
        if (!running.ready) {
          running.ready = true;
          running.lastPong = now;
          this.post(running, { type: 'boot', code: running.code, name });
        }
        return;
      case 'pong':
        running.lastPong = now;
        return;
      case 'flood':
        this.stop(name, 'stopped: it sent too many messages');
        return;
      case 'crash':
        this.stop(name, `stopped: it failed (${String(message.message).slice(0, 200)})`);
        return;
      case 'subscribe':
        this.subscribe(running, message.name);
        return;
      case 'call':
        void this.call(running, message.id, message.method, message.params);
        return;
    }
  };

  private subscribe(running: Running, event: unknown): void {
    if (typeof event !== 'string') {
      return;
    }
    // Events need the permission their method needs, granted: no prompt for a subscription.
    if (decide(running.install, event, {}).decision === 'allow') {
      running.subscriptions.add(event);
    }
  }

  private async call(running: Running, id: unknown, method: unknown, params: unknown) {
    if (typeof id !== 'number' && typeof id !== 'string') {
      return;
    }
    const reply = (body: Record<string, unknown>) => {
      if (this.running.get(running.install.name) === running) {
        this.post(running, { type: 'reply', id, ...body });
      }
    };
    running.calls += 1;
    if (running.calls > this.callLimit) {
      reply({ error: 'throttled: too many calls, slow down' });
      return;
    }
    try {
      await running.gate.check(method, params ?? {});
      const install = running.gate.current;
      running.install = install;
      const result = await perform(install, String(method), params ?? {}, {
        ...this.options.deps,
        saveSettings: async (settings) => {
          const saved = await this.options.saveSettings(install, settings);
          this.updateInstall(saved);
          return saved;
        },
      });
      reply({ result: result ?? null });
      if (method === 'workspace.writeFile') {
        const path = (params as { path?: unknown }).path;
        for (const other of this.names) {
          this.emit(other, 'workspace.changed', { path });
        }
      }
    } catch (e) {
      reply({ error: e instanceof Error ? e.message : String(e) });
    }
  }

  private heartbeat(): void {
    const now = Date.now();
    for (const running of [...this.running.values()]) {
      const since = running.ready ? running.lastPong : running.startedAt;
      const limit = running.ready ? this.hangMs : this.hangMs * 3;
      if (now - since > limit) {
        this.stop(running.install.name, 'stopped: it stopped responding (an endless loop?)');
        continue;
      }
      if (running.ready) {
        running.ping += 1;
        this.post(running, { type: 'ping', n: running.ping });
      }
    }
  }

  private watchEditor(): void {
    const listeners = [...this.running.values()].filter((r) =>
      r.subscriptions.has('editor.changed'),
    );
    if (listeners.length === 0) {
      return;
    }
    const handle = this.options.deps.getEditor();
    let text: string | null;
    try {
      text = handle ? handle.getValue() : null;
    } catch {
      text = null;
    }
    const path = handle?.path ?? null;
    if (text === this.lastText && path === this.lastPath) {
      return;
    }
    this.lastText = text;
    this.lastPath = path;
    for (const running of listeners) {
      this.emit(running.install.name, 'editor.changed', { path });
    }
  }
}

/** Whether a method name is one of the API's (for the panel's listing). */
export function knownMethod(method: string): boolean {
  return Object.hasOwn(METHODS, method);
}
