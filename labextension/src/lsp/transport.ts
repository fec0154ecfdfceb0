/** vscode-jsonrpc over a WebSocket carrying one JSON-RPC message per text frame (jupyter-lsp's framing). */
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  type DataCallback,
  type Disposable,
  type Message,
} from './rpc';

/** Reads each text frame of the socket as one message. */
export class SocketReader extends AbstractMessageReader {
  private callback: DataCallback | null = null;
  private readonly early: Message[] = [];

  constructor(socket: WebSocket) {
    super();
    socket.addEventListener('message', (event: MessageEvent) => {
      let message: Message;
      try {
        message = JSON.parse(String(event.data)) as Message;
      } catch (e) {
        this.fireError(e);
        return;
      }
      if (this.callback) {
        this.callback(message);
      } else {
        this.early.push(message);
      }
    });
    socket.addEventListener('error', () => this.fireError(new Error('socket error')));
    socket.addEventListener('close', () => this.fireClose());
  }

  /** Start delivering messages (those that arrived before are delivered first). */
  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    for (const message of this.early.splice(0)) {
      callback(message);
    }
    return { dispose: () => (this.callback = null) };
  }
}

/** Sends each message as one text frame. */
export class SocketWriter extends AbstractMessageWriter {
  constructor(private readonly socket: WebSocket) {
    super();
  }

  /** Send a message; fails when the socket is not open. */
  write(message: Message): Promise<void> {
    if (this.socket.readyState !== WebSocket.OPEN) {
      const error = new Error('The language server connection is closed');
      this.fireError([error, message, 0]);
      return Promise.reject(error);
    }
    this.socket.send(JSON.stringify(message));
    return Promise.resolve();
  }

  /** Nothing to flush: frames go out as they are written. */
  end(): void {}
}
