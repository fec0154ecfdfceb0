/** The live view's CRDT side (yjs, y-websocket, y-monaco): loaded on first use, its own chunk. */
import type { ServerConnection } from '@jupyterlab/services';
import { MonacoBinding } from 'y-monaco';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import type { monaco } from '../monaco/setup';
import { liveSocket, viewerBoard, viewersIn } from './live';
import {
  CELLS,
  STATE,
  cellText,
  readNotebook,
  writeNotebook,
  type LiveNotebook,
} from './liveNotebook';
import type { Cell, Notebook } from './notebook';

const TEXT = 'source';
const GIVE_UP_AFTER = 3; // failed connections before a room that never opened is dropped

/** An open room: its document and text, its provider; ``close`` leaves it. */
export interface LiveRoom {
  doc: Y.Doc;
  text: Y.Text;
  provider: WebsocketProvider;
  close: () => void;
}

/** Join a room: one's own file (``member`` null) or a course member's; "" path: presence. */
export function openRoom(
  settings: ServerConnection.ISettings,
  member: { course: string; student: string } | null,
  owner: string,
  path: string,
  onState?: (state: 'connected' | 'synced' | 'failed' | 'closed') => void,
): LiveRoom {
  const doc = new Y.Doc();
  const text = doc.getText(TEXT);
  const { server, room } = liveSocket(settings.wsUrl, member);
  // The owner in the URL lets a balancer keep all of one owner's rooms on one replica.
  const params: Record<string, string> = { owner: member ? member.student : owner };
  if (path) {
    params.path = path;
  }
  if (settings.token) {
    params.token = settings.token;
  }
  const provider = new WebsocketProvider(server, room, doc, { params, disableBc: true });
  let opened = false;
  let failures = 0;
  let closed = false;
  provider.on('status', ({ status }) => {
    if (status === 'connected') {
      opened = true;
      onState?.('connected');
    }
  });
  provider.on('sync', (synced: boolean) => {
    if (synced) {
      onState?.('synced');
    }
  });
  provider.on('connection-close', (event) => {
    // Refused (403, 404 ...) before ever opening, or closed by the server on purpose (4xxx):
    // stop trying instead of knocking every few seconds.
    if (!opened) {
      failures += 1;
    }
    const code = event?.code ?? 0;
    if ((!opened && failures >= GIVE_UP_AFTER) || (code >= 4000 && code < 5000)) {
      onState?.('failed');
      close();
    }
  });
  const close = () => {
    if (closed) {
      return;
    }
    closed = true;
    onState?.('closed');
    provider.destroy();
    doc.destroy();
  };
  return { doc, text, provider, close };
}

/** Report who views this room to the page's board, until the room closes. */
function reportViewers(room: LiveRoom): () => void {
  const slot = viewerBoard.slot();
  const update = () => slot.set(viewersIn(room.provider.awareness.getStates().values()));
  room.provider.awareness.on('change', update);
  return () => {
    room.provider.awareness.off('change', update);
    slot.drop();
  };
}

/**
 * Make a student's editor a writable peer of its file's room. The editor's text wins when it is
 * the first of the owner's editors in the room (the server empties the room for it then).
 */
export function bindOwnEditor(
  settings: ServerConnection.ISettings,
  owner: string,
  editor: monaco.editor.IStandaloneCodeEditor,
  path: string,
): () => void {
  const room = openRoom(settings, null, owner, path);
  const stopReporting = reportViewers(room);
  let binding: MonacoBinding | null = null;
  const onSync = (synced: boolean) => {
    const model = editor.getModel();
    if (!synced || binding || !model) {
      return;
    }
    if (room.text.length === 0 && model.getValue()) {
      room.text.insert(0, model.getValue());
    }
    binding = new MonacoBinding(room.text, model, new Set([editor]), room.provider.awareness);
  };
  room.provider.on('sync', onSync);
  return () => {
    room.provider.off('sync', onSync);
    binding?.destroy();
    stopReporting();
    room.close();
  };
}

/** Join one's presence room: the server names who views one's workspace there. */
export function joinPresence(settings: ServerConnection.ISettings, owner: string): () => void {
  const room = openRoom(settings, null, owner, '');
  const stopReporting = reportViewers(room);
  return () => {
    stopReporting();
    room.close();
  };
}

/** Show a member's file in ``editor`` as the room has it, live (read-only unless pairing). */
export function bindViewer(
  settings: ServerConnection.ISettings,
  editor: monaco.editor.IStandaloneCodeEditor,
  member: { course: string; student: string },
  path: string,
  onState: (state: 'connected' | 'synced' | 'failed' | 'closed') => void,
): () => void {
  const room = openRoom(settings, member, member.student, path, onState);
  let binding: MonacoBinding | null = null;
  const onSync = (synced: boolean) => {
    const model = editor.getModel();
    if (synced && !binding && model) {
      binding = new MonacoBinding(room.text, model, new Set([editor]), null);
    }
  };
  room.provider.on('sync', onSync);
  return () => {
    room.provider.off('sync', onSync);
    binding?.destroy();
    room.close();
  };
}

/** Join a member's presence room, so they see that one is viewing their workspace. */
export function watchPresence(
  settings: ServerConnection.ISettings,
  member: { course: string; student: string },
): () => void {
  return openRoom(settings, member, member.student, '').close;
}

/** Binds each cell's Monaco editor to its cell's Y.Text, rebinding when the cell is recreated. */
export class CellBinder {
  private readonly editors = new Map<string, monaco.editor.IStandaloneCodeEditor>();
  private readonly bindings = new Map<string, { text: Y.Text; binding: MonacoBinding }>();
  private ready = false;

  constructor(private readonly room: LiveRoom) {}

  /** Bind a cell's editor (now, or once the room has the cell); returns the unbind. */
  bind(id: string, editor: monaco.editor.IStandaloneCodeEditor): () => void {
    this.editors.set(id, editor);
    this.refresh();
    return () => {
      if (this.editors.get(id) === editor) {
        this.editors.delete(id);
        this.bindings.get(id)?.binding.destroy();
        this.bindings.delete(id);
      }
    };
  }

  /** Bind the editors whose cells the room has now (after each change of its cells). */
  refresh(ready = this.ready): void {
    this.ready = ready;
    if (!ready) {
      return;
    }
    for (const [id, editor] of this.editors) {
      const text = cellText(this.room.doc, id);
      const had = this.bindings.get(id);
      if (had?.text === text) {
        continue;
      }
      had?.binding.destroy();
      this.bindings.delete(id);
      const model = editor.getModel();
      if (text && model) {
        const binding = new MonacoBinding(text, model, new Set([editor]), null);
        this.bindings.set(id, { text, binding });
      }
    }
  }

  /** Whether a cell's editor is bound to its text now. */
  bound(id: string): boolean {
    return this.bindings.has(id);
  }

  destroy(): void {
    this.bindings.forEach(({ binding }) => binding.destroy());
    this.bindings.clear();
    this.editors.clear();
  }
}

/** A notebook editor's link to its room (see ``bindOwnNotebook``). */
export interface NotebookLink {
  /** Write the editor's notebook to the room (after each change of it). */
  push: (notebook: Notebook) => void;
  /** Bind a cell's editor to its text in the room; returns the unbind. */
  bindCell: (id: string, editor: monaco.editor.IStandaloneCodeEditor) => () => void;
  close: () => void;
}

/**
 * Make a student's notebook editor a writable peer of its room. Alone in the room (the server
 * empties it then), the editor fills it with its notebook; otherwise it takes the room's cells.
 * Cells changed by another writer (pair editing) reach ``onRemote``.
 */
export function bindOwnNotebook(
  settings: ServerConnection.ISettings,
  owner: string,
  path: string,
  current: () => Notebook | null,
  onRemote: (cells: Cell[]) => void,
): NotebookLink {
  const room = openRoom(settings, null, owner, path);
  const stopReporting = reportViewers(room);
  const binder = new CellBinder(room);
  const local = {}; // the origin of this editor's own writes
  let synced = false;
  const push = (notebook: Notebook) => {
    if (synced) {
      writeNotebook(room.doc, notebook, local, (id) => binder.bound(id));
      binder.refresh();
    }
  };
  const onSync = (ready: boolean) => {
    if (!ready || synced) {
      return;
    }
    synced = true;
    const notebook = current();
    const held = readNotebook(room.doc).cells;
    if (held.length === 0 && notebook) {
      push(notebook);
    } else {
      onRemote(held);
    }
    binder.refresh(true);
  };
  const cells = room.doc.getArray<unknown>(CELLS);
  const onChange = (_events: unknown, transaction: Y.Transaction) => {
    if (synced && transaction.origin !== local && !transaction.local) {
      onRemote(readNotebook(room.doc).cells);
      binder.refresh();
    }
  };
  cells.observeDeep(onChange);
  room.provider.on('sync', onSync);
  return {
    push,
    bindCell: (id, editor) => binder.bind(id, editor),
    close: () => {
      room.provider.off('sync', onSync);
      cells.unobserveDeep(onChange);
      binder.destroy();
      stopReporting();
      room.close();
    },
  };
}

/** A viewer's link to a member's notebook room (see ``viewNotebook``). */
export interface NotebookView {
  bindCell: (id: string, editor: monaco.editor.IStandaloneCodeEditor) => () => void;
  close: () => void;
}

/** Show a member's notebook as the room has it, live: ``onChange`` with each state of it. */
export function viewNotebook(
  settings: ServerConnection.ISettings,
  member: { course: string; student: string },
  path: string,
  onChange: (notebook: LiveNotebook) => void,
  onState: (state: 'connected' | 'synced' | 'failed' | 'closed') => void,
): NotebookView {
  const room = openRoom(settings, member, member.student, path, onState);
  const binder = new CellBinder(room);
  const show = () => {
    onChange(readNotebook(room.doc));
    binder.refresh();
  };
  const onSync = (ready: boolean) => {
    if (ready) {
      binder.refresh(true);
      show();
    }
  };
  const cells = room.doc.getArray<unknown>(CELLS);
  const state = room.doc.getMap<unknown>(STATE);
  cells.observeDeep(show);
  state.observe(show);
  room.provider.on('sync', onSync);
  return {
    bindCell: (id, editor) => binder.bind(id, editor),
    close: () => {
      room.provider.off('sync', onSync);
      cells.unobserveDeep(show);
      state.unobserve(show);
      binder.destroy();
      room.close();
    },
  };
}
