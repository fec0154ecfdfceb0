/** A course member's notebook as they work in it: its cells live (read-only), their outputs. */
import type { ServerConnection } from '@jupyterlab/services';
import { useEffect, useMemo, useState } from 'react';
import { documentPolicy } from '../lib/contentPolicy';
import { languageForKernel } from '../lib/languages';
import { liveStatusLabel, type LiveState, type LiveTarget } from '../lib/live';
import type { CellLinker } from '../lib/liveEditor';
import type { LiveNotebook as Shown } from '../lib/liveNotebook';
import { CellEditor } from './CellEditor';
import { OutputArea } from './OutputArea';

interface Props {
  settings: ServerConnection.ISettings;
  target: LiveTarget;
  /** The course lets instructors write (pair editing): the cells are writable then. */
  writable: boolean;
  onClose: () => void;
}

const ignore = () => undefined;

export function LiveNotebook({ settings, target, writable, onClose }: Props) {
  const [state, setState] = useState<LiveState>('connecting');
  const [shown, setShown] = useState<Shown | null>(null);
  const [linker, setLinker] = useState<CellLinker | null>(null);
  const { course, student, path } = target;
  const policy = useMemo(() => documentPolicy(path), [path]);

  useEffect(() => {
    let leave: (() => void) | null = null;
    let gone = false;
    void import('../lib/liveBinding').then(({ viewNotebook }) => {
      if (gone) {
        return;
      }
      const view = viewNotebook(settings, { course, student }, path, setShown, setState);
      leave = view.close;
      setLinker(view);
    });
    return () => {
      gone = true;
      leave?.();
      setLinker(null);
    };
  }, [settings, course, student, path]);

  const status = liveStatusLabel(state, writable);
  return (
    <div
      className="help-file live-file"
      data-testid="live-notebook"
      aria-label={`${student}: ${path}`}
    >
      <div className="panel-header">
        <span className="panel-title">
          {student}: {path} {writable ? '(pair editing)' : '(read-only)'}
        </span>
        <span className="toolbar-spacer" />
        <span className="muted" data-testid="live-file-state" data-state={state}>
          {status}
        </span>
        <button aria-label="Close the notebook" data-testid="live-notebook-close" onClick={onClose}>
          ×
        </button>
      </div>
      {shown?.error && (
        <div className="banner banner-error" role="alert" data-testid="live-notebook-error">
          {shown.error}
        </div>
      )}
      <div className="cells live-notebook-cells" style={{ maxHeight: '60vh', overflow: 'auto' }}>
        {linker &&
          (shown?.cells ?? []).map((cell) => (
            <div
              key={cell.id}
              className={`cell cell-${cell.cell_type}`}
              data-testid="live-cell"
              data-cell-type={cell.cell_type}
            >
              <div className="cell-prompt">
                {cell.cell_type === 'code' ? `[${cell.execution_count ?? ' '}]:` : ''}
              </div>
              <div className="cell-body">
                <CellEditor
                  source={cell.source}
                  language={
                    cell.cell_type === 'code'
                      ? languageForKernel(shown?.language || 'python')
                      : cell.cell_type === 'markdown'
                        ? 'markdown'
                        : 'plaintext'
                  }
                  autoFocus={false}
                  readOnly={!writable}
                  onChange={ignore}
                  onRun={ignore}
                  onSave={ignore}
                  onFocus={ignore}
                  live={{ linker, cellId: cell.id }}
                />
                {cell.cell_type === 'code' && <OutputArea outputs={cell.outputs} policy={policy} />}
              </div>
            </div>
          ))}
      </div>
    </div>
  );
}
