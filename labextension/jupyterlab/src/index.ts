/** jupyter-ide in JupyterLab 4: AI chat panel, inline completions, Run in sandbox, status bar. */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin,
} from '@jupyterlab/application';
import { ICommandPalette, ToolbarButton } from '@jupyterlab/apputils';
import { ICompletionProviderManager } from '@jupyterlab/completer';
import type { DocumentRegistry, IDocumentWidget } from '@jupyterlab/docregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon, runIcon } from '@jupyterlab/ui-components';
import { Token } from '@lumino/coreutils';
import { IdeApi } from './api';
import { ChatPanel } from './chat';
import { IdeInlineProvider } from './inline';
import { languageOf } from './languages';
import type { OpenFile } from './prompts';
import { RunPanel } from './run';
import { AIState } from './state';
import { StatusItem } from './status';

const ID = '@jupyter-ide/jupyterlab';
const RUN_COMMAND = 'jupyter-ide:run-in-sandbox';
const CHAT_COMMAND = 'jupyter-ide:open-chat';
const POLICY_REFRESH_MS = 60_000;

/** The client and AI state every jupyter-ide plugin shares. */
export const IIdeState = new Token<AIState>(`${ID}:state`, 'jupyter-ide: client and AI policy');

const chatIcon = new LabIcon({
  name: `${ID}:chat`,
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/></svg>',
});

/** The document widget the user works in, if it is a document (file editor, notebook). */
function currentDocument(app: JupyterFrontEnd): IDocumentWidget | null {
  const widget = app.shell.currentWidget as Partial<IDocumentWidget> | null;
  return widget && widget.context && typeof widget.context.path === 'string'
    ? (widget as IDocumentWidget)
    : null;
}

/** The file a code editor shows, with its current (maybe unsaved) text. */
function openFile(app: JupyterFrontEnd): OpenFile | null {
  const doc = currentDocument(app);
  if (!doc || doc.context.path.endsWith('.ipynb')) {
    return null;
  }
  return { path: doc.context.path, text: doc.context.model.toString() };
}

const statePlugin: JupyterFrontEndPlugin<AIState> = {
  id: `${ID}:state`,
  description: 'The jupyter-ide client and the AI policy in force.',
  autoStart: true,
  provides: IIdeState,
  activate: (app: JupyterFrontEnd): AIState => {
    const state = new AIState(new IdeApi(app.serviceManager.serverSettings));
    void state.refresh();
    // Exam windows start and end on time: read the policy again now and then.
    window.setInterval(() => void state.refresh(), POLICY_REFRESH_MS);
    return state;
  },
};

const chatPlugin: JupyterFrontEndPlugin<void> = {
  id: `${ID}:chat`,
  description: 'The AI chat side panel, answering through the jupyter-ide proxy.',
  autoStart: true,
  requires: [IIdeState],
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    state: AIState,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
  ): void => {
    const panel = new ChatPanel(state, () => openFile(app));
    panel.title.icon = chatIcon;
    app.shell.add(panel, 'right', { rank: 900 });
    restorer?.add(panel, panel.id);
    app.commands.addCommand(CHAT_COMMAND, {
      label: 'Open the AI Assistant',
      execute: () => app.shell.activateById(panel.id),
    });
    palette?.addItem({ command: CHAT_COMMAND, category: 'jupyter-ide' });
  },
};

const inlinePlugin: JupyterFrontEndPlugin<void> = {
  id: `${ID}:inline`,
  description: 'AI inline completions (ghost text) through the jupyter-ide proxy.',
  autoStart: true,
  requires: [IIdeState, ICompletionProviderManager],
  activate: (_app: JupyterFrontEnd, state: AIState, manager: ICompletionProviderManager): void => {
    manager.registerInlineProvider(new IdeInlineProvider(state));
  },
};

/** A toolbar button on file editors of code the sandbox runs. */
class RunButtonExtension implements DocumentRegistry.WidgetExtension {
  constructor(private readonly app: JupyterFrontEnd) {}

  createNew(widget: IDocumentWidget): { dispose(): void; isDisposed: boolean } {
    const button = new ToolbarButton({
      className: 'jp-IdeRun-button',
      icon: runIcon,
      label: 'Run in sandbox',
      tooltip: 'Run this file in the jupyter-ide sandbox',
      onClick: () => void this.app.commands.execute(RUN_COMMAND),
    });
    const update = (): void => {
      button.setHidden(languageOf(widget.context.path) === null);
    };
    update();
    widget.context.pathChanged.connect(update);
    widget.toolbar.insertItem(10, 'jupyter-ide-run', button);
    return button;
  }
}

const runPlugin: JupyterFrontEndPlugin<void> = {
  id: `${ID}:run`,
  description: '"Run in sandbox" for code files, through the jupyter-ide judge API.',
  autoStart: true,
  requires: [IIdeState],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, state: AIState, palette: ICommandPalette | null): void => {
    let panel: RunPanel | null = null;
    const runnable = (): IDocumentWidget | null => {
      const doc = currentDocument(app);
      return doc && languageOf(doc.context.path) ? doc : null;
    };
    app.commands.addCommand(RUN_COMMAND, {
      label: 'Run in Sandbox',
      icon: runIcon,
      caption: 'Run the current code file in the jupyter-ide sandbox',
      isEnabled: () => runnable() !== null,
      execute: async () => {
        const doc = runnable();
        if (!doc) {
          return;
        }
        if (!panel || panel.isDisposed) {
          panel = new RunPanel();
        }
        if (!panel.isAttached) {
          app.shell.add(panel, 'down');
        }
        app.shell.activateById(panel.id);
        await panel.runFile(state.api, doc.context.path, doc.context.model.toString());
      },
    });
    palette?.addItem({ command: RUN_COMMAND, category: 'jupyter-ide' });
    app.contextMenu.addItem({ command: RUN_COMMAND, selector: '.jp-FileEditor', rank: 0 });
    app.docRegistry.addWidgetExtension('Editor', new RunButtonExtension(app));
  },
};

const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: `${ID}:status`,
  description: 'The sandbox state and the AI quota in the status bar.',
  autoStart: true,
  requires: [IIdeState, IStatusBar],
  activate: (_app: JupyterFrontEnd, state: AIState, statusBar: IStatusBar): void => {
    statusBar.registerStatusItem(`${ID}:status`, {
      item: new StatusItem(state.api, state),
      align: 'left',
      rank: 900,
    });
  },
};

export default [statePlugin, chatPlugin, inlinePlugin, runPlugin, statusPlugin];
