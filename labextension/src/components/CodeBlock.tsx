/** A code block of an assistant's answer, with buttons to use it in the open file. */

interface Props {
  code: string;
  language: string;
  /** False while the answer is still streaming in. */
  complete: boolean;
  onInsert: (code: string) => void;
  onApply: (code: string, language: string) => void;
}

export function CodeBlock({ code, language, complete, onInsert, onApply }: Props) {
  return (
    <div className="chat-code" data-testid="chat-code">
      <div className="chat-code-bar">
        <span className="chat-code-lang">{language || 'text'}</span>
        <span className="toolbar-spacer" />
        <button
          data-testid="chat-code-insert"
          title="Insert at the cursor of the open file"
          disabled={!complete}
          onClick={() => onInsert(code)}
        >
          Insert
        </button>
        <button
          data-testid="chat-code-apply"
          title="Review the change to the open file as a diff before applying it"
          disabled={!complete}
          onClick={() => onApply(code, language)}
        >
          Apply as diff…
        </button>
        <button
          data-testid="chat-code-copy"
          title="Copy to the clipboard"
          onClick={() => void navigator.clipboard?.writeText(code)}
        >
          Copy
        </button>
      </div>
      <pre>
        <code>{code}</code>
      </pre>
    </div>
  );
}
