/** Short messages for the user: errors from the server, confirmations. */

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export type Notify = (kind: Toast['kind'], text: string) => void;

interface Props {
  toasts: Toast[];
  onDismiss: (id: number) => void;
}

export function Toasts({ toasts, onDismiss }: Props) {
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((toast) => (
        <div key={toast.id} className={`toast toast-${toast.kind}`} data-testid="toast">
          <span>{toast.text}</span>
          <button aria-label="Dismiss" onClick={() => onDismiss(toast.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
