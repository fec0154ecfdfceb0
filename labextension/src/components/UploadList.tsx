/** Per-file progress of the explorer's uploads, each cancellable until its last chunk. */
import { baseName } from '../lib/languages';
import { cancellable, uploadLabel, uploadPercent, type UploadItem } from '../lib/uploads';

interface Props {
  uploads: UploadItem[];
  onCancel: (id: number) => void;
}

export function UploadList({ uploads, onCancel }: Props) {
  if (!uploads.length) {
    return null;
  }
  return (
    <ul className="upload-list" aria-label="Uploads" data-testid="upload-list">
      {uploads.map((item) => (
        <li
          key={item.id}
          className={`upload-item upload-${item.state}`}
          data-testid={`upload-${item.path}`}
          data-state={item.state}
          title={item.path}
        >
          <span className="upload-name">{baseName(item.path)}</span>
          <progress
            max={100}
            value={uploadPercent(item)}
            aria-label={`Upload of ${baseName(item.path)}`}
          />
          <span className="upload-status" data-testid="upload-status">
            {uploadLabel(item)}
          </span>
          {cancellable(item) && (
            <button
              className="upload-cancel"
              aria-label={`Cancel the upload of ${baseName(item.path)}`}
              data-testid={`upload-cancel-${item.path}`}
              onClick={() => onCancel(item.id)}
            >
              ×
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
