/** A terminal over Jupyter's terminals websocket, fitted to its panel as the panel resizes. */
import { PageConfig } from '@jupyterlab/coreutils';
import type { Terminal as TerminalSession } from '@jupyterlab/services';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef } from 'react';
import { errorMessage } from '../api/client';
import type { Services } from '../services';
import type { Notify } from './Toasts';

interface Props {
  services: Services;
  notify: Notify;
}

export default function TerminalPanel({ services, notify }: Props) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = host.current;
    if (!element) {
      return;
    }
    const term = new Terminal({
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      cursorBlink: true,
      theme: { background: '#1e1e1e' },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    let connection: TerminalSession.ITerminalConnection | null = null;
    let disposed = false;

    const resize = () => {
      if (element.clientWidth === 0 || element.clientHeight === 0) {
        return;
      }
      fit.fit();
      connection?.send({
        type: 'set_size',
        content: [term.rows, term.cols, element.clientHeight, element.clientWidth],
      });
    };
    const observer = new ResizeObserver(resize);
    observer.observe(element);

    if (!services.terminals.isAvailable()) {
      const reason = PageConfig.getOption('terminalsOffReason');
      term.write(`${reason || 'Terminals are disabled on this server.'}\r\n`);
      return () => {
        observer.disconnect();
        term.dispose();
      };
    }
    // The server opens terminals in the user's workspace folder.
    services.terminals
      .startNew()
      .then((conn) => {
        if (disposed) {
          void conn.shutdown();
          return;
        }
        connection = conn;
        conn.messageReceived.connect((_, message) => {
          if (message.type === 'stdout' && message.content) {
            term.write(String(message.content[0]));
          } else if (message.type === 'disconnect') {
            term.write('\r\n[terminal closed]\r\n');
          }
        });
        term.onData((data) => conn.send({ type: 'stdin', content: [data] }));
        resize();
        term.focus();
      })
      .catch(async (e) => {
        // Shown in the panel too: a 503 says why (e.g. no Docker engine for the sandbox).
        const reason = await errorMessage(e);
        if (!disposed) {
          term.write(`Could not open a terminal: ${reason}\r\n`);
        }
        notify('error', `Could not open a terminal: ${reason}`);
      });

    return () => {
      disposed = true;
      observer.disconnect();
      if (connection) {
        void connection.shutdown().catch(() => undefined);
      }
      term.dispose();
    };
  }, [services, notify]);

  return <div className="terminal-host" ref={host} data-testid="terminal" />;
}
