/** The live view's CRDT side (yjs, y-websocket, y-monaco): loaded on first use, its own chunk. */
import type { ServerConnection } from '@jupyterlab/services';
import { MonacoBinding } from 'y-monaco';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import type { monaco } from '../monaco/setup';
import { liveSocket, viewerBoard, viewersIn } from './live';

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
