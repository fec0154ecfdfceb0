/** The Jupyter services the app talks to, made once from the page's config. */
import {
  ContentsManager,
  KernelManager,
  KernelSpecManager,
  ServerConnection,
  SessionManager,
  TerminalManager,
} from '@jupyterlab/services';
import { IdeClient } from './api/client';

export interface Services {
  settings: ServerConnection.ISettings;
  contents: ContentsManager;
  kernelspecs: KernelSpecManager;
  sessions: SessionManager;
  terminals: TerminalManager;
  ide: IdeClient;
}

/** Create the service managers for this server. */
export function createServices(): Services {
  const settings = ServerConnection.makeSettings();
  const kernels = new KernelManager({ serverSettings: settings });
  return {
    settings,
    contents: new ContentsManager({ serverSettings: settings }),
    kernelspecs: new KernelSpecManager({ serverSettings: settings }),
    sessions: new SessionManager({ kernelManager: kernels, serverSettings: settings }),
    terminals: new TerminalManager({ serverSettings: settings }),
    ide: new IdeClient(settings),
  };
}
