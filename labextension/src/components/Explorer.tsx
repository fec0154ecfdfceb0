/** The file explorer: browse, create, rename, move by drag and drop, delete, upload, download. */
import { ServerConnection, type Contents } from '@jupyterlab/services';
import { zipSync } from 'fflate';
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../api/client';
import {
  base64ToBytes,
  bytesToBase64,
  chunkPlan,
  downloadBytes,
  downloadUrl,
} from '../lib/download';
import { baseName, dirName, invalidName, isUnder, joinPath, renamePath } from '../lib/languages';
import { emptyNotebook, toJSON } from '../lib/notebook';
import { updateUpload, type UploadItem } from '../lib/uploads';
import type { Services } from '../services';
import type { Notify } from './Toasts';
import { UploadList } from './UploadList';

const UPLOAD_CHUNK = 1024 * 1024;
/** How long a finished upload's row stays in the list. */
const UPLOAD_ROW_MS = 4000;
const DRAG_TYPE = 'application/x-jupyter-ide-path';

interface Entry {
  name: string;
  path: string;
  type: string;
}

type Editing =
  | { mode: 'new-file' | 'new-notebook' | 'new-folder'; folder: string }
  | { mode: 'rename'; path: string };

interface Props {
  services: Services;
  version: number;
  onOpen: (path: string, type: string) => void;
  onRenamed: (from: string, to: string) => void;
  onDeleted: (path: string) => void;
  onChanged: () => void;
  notify: Notify;
}

function renameAll(paths: Set<string>, from: string, to: string): Set<string> {
  return new Set([...paths].map((p) => renamePath(p, from, to)));
}

function sortEntries(entries: Entry[]): Entry[] {
  return [...entries].sort((a, b) => {
    const folderFirst = Number(b.type === 'directory') - Number(a.type === 'directory');
    return folderFirst || a.name.localeCompare(b.name);
  });
}

export function Explorer({
  services,
  version,
  onOpen,
  onRenamed,
  onDeleted,
  onChanged,
  notify,
}: Props) {
  const [children, setChildren] = useState<Record<string, Entry[]>>({});
  const [expanded, setExpanded] = useState<Set<string>>(new Set(['']));
  const [selected, setSelected] = useState<string | null>(null);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [dropTarget, setDropTarget] = useState<string | null>(null);
  const uploadInput = useRef<HTMLInputElement>(null);
  const [uploads, setUploads] = useState<UploadItem[]>([]);
  const uploadId = useRef(0);
  const cancelled = useRef(new Set<number>());
  const contents = services.contents;

  const load = useCallback(
    async (folder: string) => {
      try {
        const model = await contents.get(folder, { content: true });
        const entries = ((model.content as Contents.IModel[]) ?? []).map((m) => ({
          name: m.name,
          path: m.path,
          type: m.type,
        }));
        setChildren((prev) => ({ ...prev, [folder]: sortEntries(entries) }));
      } catch (e) {
        if (
          folder !== '' &&
          e instanceof ServerConnection.ResponseError &&
          e.response.status === 404
        ) {
          setExpanded((prev) => new Set([...prev].filter((p) => !isUnder(p, folder))));
          return;
        }
        notify('error', `Cannot list ${folder || 'the root folder'}: ${await errorMessage(e)}`);
      }
    },
    [contents, notify],
  );

  useEffect(() => {
    for (const folder of expanded) {
      void load(folder);
    }
    // Reload what is shown whenever something changed; `expanded` changes load on their own.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version, load]);

  const selectedFolder = (): string => {
    if (selected === null) {
      return '';
    }
    const entry = Object.values(children)
      .flat()
      .find((e) => e.path === selected);
    return entry?.type === 'directory' ? entry.path : dirName(selected);
  };

  const toggle = (entry: Entry) => {
    setSelected(entry.path);
    if (entry.type !== 'directory') {
      onOpen(entry.path, entry.type);
      return;
    }
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(entry.path)) {
        next.delete(entry.path);
      } else {
        next.add(entry.path);
        void load(entry.path);
      }
      return next;
    });
  };

  const exists = async (path: string): Promise<boolean> => {
    try {
      await contents.get(path, { content: false });
      return true;
    } catch {
      return false;
    }
  };

  const commitName = async (name: string) => {
    const current = editing;
    setEditing(null);
    if (!current) {
      return;
    }
    const problem = invalidName(name);
    if (problem) {
      notify('error', problem);
      return;
    }
    const folder = current.mode === 'rename' ? dirName(current.path) : current.folder;
    let target = joinPath(folder, name);
    if (current.mode === 'new-notebook' && !target.endsWith('.ipynb')) {
      target += '.ipynb';
    }
    if (current.mode === 'rename' && target === current.path) {
      return;
    }
    try {
      if (await exists(target)) {
        notify('error', `${target} already exists`);
        return;
      }
      if (current.mode === 'rename') {
        await contents.rename(current.path, target);
        onRenamed(current.path, target);
        setExpanded((prev) => renameAll(prev, current.path, target));
      } else if (current.mode === 'new-folder') {
        await contents.save(target, { type: 'directory' });
      } else if (current.mode === 'new-notebook' || target.endsWith('.ipynb')) {
        await services.kernelspecs.ready;
        const spec = services.kernelspecs.specs;
        const kernel = spec?.default ?? undefined;
        const display = kernel ? spec?.kernelspecs[kernel]?.display_name : undefined;
        await contents.save(target, {
          type: 'notebook',
          format: 'json',
          content: toJSON(emptyNotebook(kernel, display)),
        });
        onOpen(target, 'notebook');
      } else {
        await contents.save(target, { type: 'file', format: 'text', content: '' });
        onOpen(target, 'file');
      }
      setExpanded((prev) => new Set(prev).add(folder));
      setSelected(target);
      onChanged();
    } catch (e) {
      notify('error', await errorMessage(e));
    }
  };

  const move = async (from: string, folder: string) => {
    const target = joinPath(folder, baseName(from));
    if (target === from || folder === from || folder.startsWith(`${from}/`)) {
      return;
    }
    try {
      if (await exists(target)) {
        notify('error', `${target} already exists`);
        return;
      }
      await contents.rename(from, target);
      onRenamed(from, target);
      setExpanded((prev) => new Set([...renameAll(prev, from, target), folder]));
      onChanged();
    } catch (e) {
      notify('error', await errorMessage(e));
    }
  };

  const remove = async (entry: Entry) => {
    if (
      !window.confirm(
        `Delete ${entry.path}${entry.type === 'directory' ? ' and everything in it' : ''}?`,
      )
    ) {
      return;
    }
    try {
      await contents.delete(entry.path);
      onDeleted(entry.path);
      setExpanded((prev) => new Set([...prev].filter((p) => !isUnder(p, entry.path))));
      onChanged();
    } catch (e) {
      notify('error', await errorMessage(e));
    }
  };

  const finishUpload = (id: number, change: Partial<Omit<UploadItem, 'id'>>) => {
    setUploads((prev) => updateUpload(prev, id, change));
    cancelled.current.delete(id);
    window.setTimeout(
      () => setUploads((prev) => prev.filter((item) => item.id !== id)),
      UPLOAD_ROW_MS,
    );
  };

  const upload = async (files: FileList | File[], folder: string) => {
    const queued = Array.from(files).map((file) => {
      uploadId.current += 1;
      return { id: uploadId.current, file, path: joinPath(folder, file.name) };
    });
    setUploads((prev) => [
      ...prev,
      ...queued.map(({ id, file, path }) => ({
        id,
        path,
        sent: 0,
        total: file.size,
        state: 'queued' as const,
      })),
    ]);
    for (const { id, file, path } of queued) {
      try {
        let stopped = false;
        for (const part of chunkPlan(file.size, UPLOAD_CHUNK)) {
          // A cancel stops before the next chunk; the server drops the staged part later.
          if (cancelled.current.has(id)) {
            stopped = true;
            break;
          }
          setUploads((prev) => updateUpload(prev, id, { state: 'uploading' }));
          const bytes = new Uint8Array(await file.slice(part.start, part.end).arrayBuffer());
          const model: Partial<Contents.IModel> = {
            type: 'file',
            format: 'base64',
            content: bytesToBase64(bytes),
            ...(part.number !== 0 ? { chunk: part.number } : {}),
          };
          await contents.save(path, model);
          setUploads((prev) => updateUpload(prev, id, { sent: part.end }));
        }
        if (stopped) {
          finishUpload(id, { state: 'cancelled' });
          notify('info', `Upload of ${path} cancelled`);
        } else {
          finishUpload(id, { state: 'done', sent: file.size });
          notify('info', `Uploaded ${path}`);
        }
      } catch (e) {
        finishUpload(id, { state: 'failed' });
        notify('error', `Upload of ${file.name} failed: ${await errorMessage(e)}`);
      }
    }
    setExpanded((prev) => new Set(prev).add(folder));
    onChanged();
  };

  const collect = async (folder: string, into: Record<string, Uint8Array>, root: string) => {
    const listing = await contents.get(folder, { content: true });
    for (const item of (listing.content as Contents.IModel[]) ?? []) {
      if (item.type === 'directory') {
        await collect(item.path, into, root);
      } else {
        const file = await contents.get(item.path, {
          type: 'file',
          format: 'base64',
          content: true,
        });
        into[item.path.slice(root.length).replace(/^\//, '')] = base64ToBytes(String(file.content));
      }
    }
  };

  const download = async (entry: Entry) => {
    try {
      if (entry.type === 'directory') {
        const files: Record<string, Uint8Array> = {};
        await collect(entry.path, files, dirName(entry.path));
        downloadBytes(zipSync(files), `${entry.name}.zip`, 'application/zip');
      } else {
        downloadUrl(await contents.getDownloadUrl(entry.path), entry.name);
      }
    } catch (e) {
      notify('error', `Download failed: ${await errorMessage(e)}`);
    }
  };

  const dropProps = (folder: string) => ({
    onDragOver: (e: React.DragEvent) => {
      e.preventDefault();
      e.stopPropagation();
      setDropTarget(folder);
    },
    onDragLeave: () => setDropTarget((t) => (t === folder ? null : t)),
    onDrop: (e: React.DragEvent) => {
      e.preventDefault();
      e.stopPropagation();
      setDropTarget(null);
      const from = e.dataTransfer.getData(DRAG_TYPE);
      if (from) {
        void move(from, folder);
      } else if (e.dataTransfer.files.length) {
        void upload(e.dataTransfer.files, folder);
      }
    },
  });

  const nameInput = (initial: string, testId: string) => (
    <input
      className="explorer-input"
      data-testid={testId}
      aria-label="Name"
      autoFocus
      defaultValue={initial}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          void commitName(e.currentTarget.value);
        } else if (e.key === 'Escape') {
          setEditing(null);
        }
      }}
      onBlur={() => setEditing(null)}
    />
  );

  const renderFolder = (folder: string, depth: number): React.ReactNode => (
    <ul className="explorer-list" role="group">
      {editing && editing.mode !== 'rename' && editing.folder === folder && (
        <li style={{ paddingLeft: depth * 14 + 8 }}>
          {nameInput(
            editing.mode === 'new-notebook' ? 'Untitled.ipynb' : '',
            'explorer-name-input',
          )}
        </li>
      )}
      {(children[folder] ?? []).map((entry) => (
        <li
          key={entry.path}
          role="treeitem"
          aria-expanded={entry.type === 'directory' ? expanded.has(entry.path) : undefined}
        >
          {editing?.mode === 'rename' && editing.path === entry.path ? (
            <div style={{ paddingLeft: depth * 14 + 8 }}>
              {nameInput(entry.name, 'explorer-rename-input')}
            </div>
          ) : (
            <div
              className={`explorer-row ${selected === entry.path ? 'selected' : ''} ${dropTarget === entry.path ? 'drop-target' : ''}`}
              style={{ paddingLeft: depth * 14 + 8 }}
              data-testid={`explorer-item-${entry.path}`}
              draggable
              onDragStart={(e) => e.dataTransfer.setData(DRAG_TYPE, entry.path)}
              onClick={() => toggle(entry)}
              {...(entry.type === 'directory' ? dropProps(entry.path) : {})}
            >
              <span className="explorer-icon" aria-hidden>
                {entry.type === 'directory'
                  ? expanded.has(entry.path)
                    ? '▾'
                    : '▸'
                  : entry.type === 'notebook'
                    ? '◆'
                    : '·'}
              </span>
              <span className="explorer-name">{entry.name}</span>
              <span className="explorer-actions">
                <button
                  aria-label={`Rename ${entry.name}`}
                  data-testid={`explorer-rename-${entry.path}`}
                  onClick={(e) => {
                    e.stopPropagation();
                    setEditing({ mode: 'rename', path: entry.path });
                  }}
                >
                  ✎
                </button>
                <button
                  aria-label={`Download ${entry.name}`}
                  data-testid={`explorer-download-${entry.path}`}
                  onClick={(e) => {
                    e.stopPropagation();
                    void download(entry);
                  }}
                >
                  ⤓
                </button>
                <button
                  aria-label={`Delete ${entry.name}`}
                  data-testid={`explorer-delete-${entry.path}`}
                  onClick={(e) => {
                    e.stopPropagation();
                    void remove(entry);
                  }}
                >
                  ✕
                </button>
              </span>
            </div>
          )}
          {entry.type === 'directory' &&
            expanded.has(entry.path) &&
            renderFolder(entry.path, depth + 1)}
        </li>
      ))}
    </ul>
  );

  return (
    <nav className="explorer" aria-label="Files" data-testid="explorer">
      <div className="explorer-header">
        <span className="explorer-title">Files</span>
        <button
          aria-label="Refresh"
          title="Refresh"
          data-testid="explorer-refresh"
          onClick={onChanged}
        >
          ⟳
        </button>
      </div>
      <div className="explorer-toolbar" role="toolbar" aria-label="File actions">
        <button
          aria-label="New file"
          title="New file"
          data-testid="explorer-new-file"
          onClick={() => setEditing({ mode: 'new-file', folder: selectedFolder() })}
        >
          + File
        </button>
        <button
          aria-label="New notebook"
          title="New notebook"
          data-testid="explorer-new-notebook"
          onClick={() => setEditing({ mode: 'new-notebook', folder: selectedFolder() })}
        >
          + Notebook
        </button>
        <button
          aria-label="New folder"
          title="New folder"
          data-testid="explorer-new-folder"
          onClick={() => setEditing({ mode: 'new-folder', folder: selectedFolder() })}
        >
          + Folder
        </button>
        <button
          aria-label="Upload files"
          title="Upload files (or drop them on a folder)"
          data-testid="explorer-upload"
          onClick={() => uploadInput.current?.click()}
        >
          ⇪ Upload
        </button>
        <input
          ref={uploadInput}
          type="file"
          multiple
          hidden
          data-testid="explorer-upload-input"
          onChange={(e) => {
            if (e.currentTarget.files) {
              void upload(e.currentTarget.files, selectedFolder());
              e.currentTarget.value = '';
            }
          }}
        />
      </div>
      <UploadList uploads={uploads} onCancel={(id) => cancelled.current.add(id)} />
      <div
        className={`explorer-tree ${dropTarget === '' ? 'drop-target' : ''}`}
        role="tree"
        data-testid="explorer-root"
        onClick={(e) => e.target === e.currentTarget && setSelected(null)}
        {...dropProps('')}
      >
        {renderFolder('', 0)}
      </div>
    </nav>
  );
}
