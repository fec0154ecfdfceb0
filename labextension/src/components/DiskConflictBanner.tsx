/** The warning shown when a document's file moved on since it was opened or saved. */

interface Props {
  path: string;
  onReload: () => void;
  onOverwrite: () => void;
}

export function DiskConflictBanner({ path, onReload, onOverwrite }: Props) {
  return (
    <div className="banner banner-warn" data-testid="disk-conflict-banner" role="alert">
      <span>{path} changed on disk since you opened it.</span>
      <button data-testid="conflict-reload" onClick={onReload}>
        Reload from disk
      </button>
      <button data-testid="conflict-overwrite" onClick={onOverwrite}>
        Overwrite with mine
      </button>
    </div>
  );
}
