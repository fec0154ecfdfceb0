/** The open documents, one tab each, with a dirty marker and a close button. */
import { baseName } from '../lib/languages';

export interface OpenTab {
  /** Stays the same for the tab's life, while its path follows renames. */
  id: number;
  path: string;
  kind: 'file' | 'notebook';
}

interface Props {
  tabs: OpenTab[];
  active: string | null;
  dirty: ReadonlySet<string>;
  onSelect: (path: string) => void;
  onClose: (path: string) => void;
}

export function TabBar({ tabs, active, dirty, onSelect, onClose }: Props) {
  return (
    <div className="tabbar" role="tablist">
      {tabs.map((tab) => (
        <div
          key={tab.id}
          role="tab"
          aria-selected={tab.path === active}
          className={`tab ${tab.path === active ? 'tab-active' : ''}`}
          data-testid={`tab-${tab.path}`}
          title={tab.path}
          onClick={() => onSelect(tab.path)}
          onAuxClick={(e) => e.button === 1 && onClose(tab.path)}
        >
          <span className="tab-name">{baseName(tab.path)}</span>
          {dirty.has(tab.path) && (
            <span className="tab-dirty" data-testid="tab-dirty" aria-label="unsaved changes">
              ●
            </span>
          )}
          <button
            className="tab-close"
            aria-label={`Close ${baseName(tab.path)}`}
            onClick={(e) => {
              e.stopPropagation();
              onClose(tab.path);
            }}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
