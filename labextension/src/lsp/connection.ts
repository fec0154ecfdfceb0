/** One language server's connection for this page: lazy, initialized, reconnected with backoff. */
import {
  createProtocolConnection,
  type Diagnostic,
  type InitializeResult,
  type ProtocolConnection,
  type ServerCapabilities,
  type WorkspaceEdit,
} from './rpc';
import { SocketReader, SocketWriter } from './transport';
import type { ServerState } from './store';

/** What the connection tells its owner. */
export interface ConnectionHooks {
  /** The server is (again) initialized: open the documents afresh. */
  onReady(): void;
  /** The server published diagnostics for a document. */
  onDiagnostics(uri: string, diagnostics: Diagnostic[]): void;
  /** The connection's state changed. */
  onState(state: ServerState, detail: string): void;
  /** The server asked to apply a workspace edit. */
  onApplyEdit(edit: WorkspaceEdit): Promise<boolean>;
}

/** Delays before reconnecting (ms); the last one repeats. */
export const BACKOFF_MS = [100, 250, 500, 1000, 2000];
/** How long a request waits for the server to be ready before failing. */
const READY_TIMEOUT_MS = 15_000;
/** LSP's "server not initialized" error code. */
const SERVER_NOT_INITIALIZED = -32002;

/** The delay before reconnect attempt `attempt` (0-based). */
export function backoff(attempt: number): number {
  return BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] ?? 1000;
}

/** The client capabilities we implement in Monaco. */
function clientCapabilities() {
  const formats = ['markdown', 'plaintext'] as ('markdown' | 'plaintext')[];
  return {
    textDocument: {
      synchronization: { dynamicRegistration: false, didSave: false, willSave: false },
      completion: {
        completionItem: { snippetSupport: true, documentationFormat: formats },
        contextSupport: true,
      },
      hover: { contentFormat: formats },
      signatureHelp: {
        signatureInformation: {
          documentationFormat: formats,
          parameterInformation: { labelOffsetSupport: true },
        },
      },
      definition: { linkSupport: true },
      references: {},
      rename: { prepareSupport: false },
      formatting: {},
      publishDiagnostics: { relatedInformation: false },
    },
    workspace: {
      applyEdit: true,
      workspaceEdit: { documentChanges: true },
      workspaceFolders: true,
      configuration: true,
    },
  };
}

/** A language server reached through `<base>/lsp/ws/<key>`. */
export class LspConnection {
  capabilities: ServerCapabilities = {};
  private connection: ProtocolConnection | null = null;
  private socket: WebSocket | null = null;
  private ready: Promise<void>;
  private resolveReady: () => void = () => undefined;
  private attempt = 0;
  private timer: number | undefined;
  private disposed = false;
  private initializing = false;
  private restarting = false;

  constructor(
    readonly key: string,
    private readonly url: string,
    private readonly rootUri: string,
    private readonly hooks: ConnectionHooks,
  ) {
    this.ready = this.newReady();
  }

  /** True once initialized and until the socket closes. */
  get isReady(): boolean {
    return this.connection !== null && !this.initializing;
  }

  private newReady(): Promise<void> {
    return new Promise((resolve) => (this.resolveReady = resolve));
  }

  /** Open the socket and initialize the server. */
  start(): void {
    if (this.disposed || this.socket) {
      return;
    }
    this.hooks.onState(this.attempt === 0 ? 'starting' : 'reconnecting', '');
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener('open', () => {
      const connection = createProtocolConnection(
        new SocketReader(socket),
        new SocketWriter(socket),
      );
      this.connection = connection;
      this.handle(connection);
      connection.listen();
      void this.initialize();
    });
    socket.addEventListener('close', () => this.lost(socket));
  }

  /** Wire the server's notifications and requests. */
  private handle(connection: ProtocolConnection): void {
    connection.onNotification('textDocument/publishDiagnostics', (params) => {
      this.answered();
      this.hooks.onDiagnostics(params.uri, params.diagnostics);
    });
    connection.onRequest('workspace/configuration', (params: { items: unknown[] }) =>
      params.items.map(() => null),
    );
    connection.onRequest('client/registerCapability', () => null);
    connection.onRequest('client/unregisterCapability', () => null);
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.onRequest('window/showMessageRequest', () => null);
    connection.onRequest('workspace/workspaceFolders', () => [
      { uri: this.rootUri, name: 'workspace' },
    ]);
    connection.onRequest('workspace/applyEdit', async (params: { edit: WorkspaceEdit }) => ({
      applied: await this.hooks.onApplyEdit(params.edit),
    }));
    connection.onNotification('window/logMessage', () => undefined);
    connection.onNotification('window/showMessage', () => undefined);
    connection.onNotification('$/progress', () => undefined);
    connection.onNotification('telemetry/event', () => undefined);
  }

  /** Send initialize/initialized; then the documents are opened again. */
  private async initialize(): Promise<void> {
    const connection = this.connection;
    if (!connection || this.initializing) {
      return;
    }
    this.initializing = true;
    try {
      const result: InitializeResult = await connection.sendRequest('initialize', {
        processId: null,
        clientInfo: { name: 'jupyter-ide' },
        rootUri: this.rootUri,
        rootPath: null,
        workspaceFolders: [{ uri: this.rootUri, name: 'workspace' }],
        capabilities: clientCapabilities(),
      });
      this.capabilities = result.capabilities ?? {};
      await connection.sendNotification('initialized', {});
      this.initializing = false;
      this.attempt = 0;
      this.hooks.onReady();
      this.hooks.onState('ready', '');
      this.resolveReady();
    } catch (e) {
      this.initializing = false;
      if (this.connection === connection) {
        this.hooks.onState('reconnecting', e instanceof Error ? e.message : String(e));
        this.socket?.close();
      }
    }
  }

  /** The socket closed: forget the connection and try again after a backoff. */
  private lost(socket: WebSocket): void {
    if (this.socket !== socket) {
      return;
    }
    this.connection?.dispose();
    this.connection = null;
    this.socket = null;
    this.initializing = false;
    if (this.disposed) {
      return;
    }
    this.ready = this.newReady();
    const delay = backoff(this.attempt);
    this.attempt += 1;
    this.hooks.onState('reconnecting', `reconnecting in ${delay} ms`);
    this.timer = window.setTimeout(() => this.start(), delay);
  }

  /** Wait until the server is initialized (or fail after a while). */
  private async whenReady(): Promise<ProtocolConnection> {
    this.start();
    let timer: number | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = window.setTimeout(
        () => reject(new Error(`The ${this.key} language server is not ready`)),
        READY_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.ready, timeout]);
    } finally {
      window.clearTimeout(timer);
    }
    if (!this.connection) {
      throw new Error(`The ${this.key} language server is not connected`);
    }
    return this.connection;
  }

  /** Send a request once ready; a server restarted behind an open socket is initialized again. */
  async request<R>(method: string, params: unknown): Promise<R> {
    const connection = await this.whenReady();
    try {
      const result = (await connection.sendRequest(method, params)) as R;
      this.answered();
      return result;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (/restart/i.test(message)) {
        // The server side restarts a crashed server behind this socket and says so.
        this.restarting = true;
        this.hooks.onState('reconnecting', message);
      }
      if ((e as { code?: number }).code === SERVER_NOT_INITIALIZED && !this.initializing) {
        this.ready = this.newReady();
        void this.initialize();
      }
      throw e;
    }
  }

  /** The server answered: after a restart behind the socket, it is back. */
  private answered(): void {
    if (this.restarting) {
      this.restarting = false;
      this.hooks.onState('ready', '');
    }
  }

  /** Send a notification when connected (documents are reopened on reconnect anyway). */
  notify(method: string, params: unknown): void {
    if (this.isReady) {
      void this.connection?.sendNotification(method, params).catch(() => undefined);
    }
  }

  /** Close for good. */
  dispose(): void {
    this.disposed = true;
    window.clearTimeout(this.timer);
    this.connection?.dispose();
    this.socket?.close();
    this.hooks.onState('closed', '');
  }
}
