/** Asks the user, at first use, whether an extension may use a sensitive permission. */
import type { Install } from '../extensions/permissions';
import { PERMISSION_TEXT } from '../extensions/permissions';

export interface PendingAsk {
  install: Install;
  permission: string;
  resolve: (yes: boolean) => void;
}

interface Props {
  ask: PendingAsk;
  onAnswer: (yes: boolean) => void;
}

export function MarketplacePrompt({ ask, onAnswer }: Props) {
  const what = PERMISSION_TEXT[ask.permission] ?? ask.permission;
  return (
    <div
      className="marketplace-prompt"
      role="alertdialog"
      data-testid="extension-prompt"
      style={{
        position: 'fixed',
        top: 16,
        left: '50%',
        transform: 'translateX(-50%)',
        zIndex: 60,
        background: '#252526',
        border: '1px solid #888',
        padding: 12,
      }}
    >
      <p>
        <strong>{ask.install.displayName}</strong> asks to {what} ({ask.permission}).
      </p>
      <button data-testid="extension-prompt-allow" onClick={() => onAnswer(true)}>
        Allow
      </button>
      <button data-testid="extension-prompt-deny" onClick={() => onAnswer(false)}>
        Refuse
      </button>
    </div>
  );
}
