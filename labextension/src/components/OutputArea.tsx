/** A code cell's outputs: streams, errors with tracebacks, and rich mime data. */
import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { ansiToHtml, stripAnsi } from '../lib/ansi';
import { joinText, pickMime, type DataOutput, type Output } from '../lib/outputs';

function DataView({ output }: { output: DataOutput }) {
  const mime = pickMime(output.data);
  const value = output.data[mime ?? ''];
  switch (mime) {
    case 'text/html':
      return (
        <div
          className="output-html"
          dangerouslySetInnerHTML={{ __html: DOMPurify.sanitize(joinText(value)) }}
        />
      );
    case 'image/png':
    case 'image/jpeg':
      return (
        <img
          className="output-image"
          alt="output"
          src={`data:${mime};base64,${joinText(value).trim()}`}
        />
      );
    case 'image/svg+xml':
      return (
        <div
          className="output-svg"
          dangerouslySetInnerHTML={{ __html: DOMPurify.sanitize(joinText(value)) }}
        />
      );
    case 'text/markdown':
      return (
        <div
          className="output-markdown markdown"
          dangerouslySetInnerHTML={{
            __html: DOMPurify.sanitize(marked.parse(joinText(value), { async: false })),
          }}
        />
      );
    case 'application/json':
      return <pre className="output-json">{JSON.stringify(value, null, 2)}</pre>;
    case 'text/plain':
      return (
        <pre
          className="output-text"
          dangerouslySetInnerHTML={{ __html: ansiToHtml(joinText(value)) }}
        />
      );
    default:
      return <pre className="output-text">[output of a type this view cannot show]</pre>;
  }
}

/** The text of an error output, as a person would copy it. */
export function errorText(output: Output): string | null {
  if (output.output_type === 'error') {
    return stripAnsi(output.traceback.join('\n') || `${output.ename}: ${output.evalue}`);
  }
  if (output.output_type === 'stream' && output.name === 'stderr') {
    return stripAnsi(joinText(output.text));
  }
  return null;
}

function OutputView({ output }: { output: Output }) {
  switch (output.output_type) {
    case 'stream':
      return (
        <pre
          className={`output-stream output-${output.name}`}
          dangerouslySetInnerHTML={{ __html: ansiToHtml(joinText(output.text)) }}
        />
      );
    case 'error':
      return (
        <pre
          className="output-error"
          data-testid="output-error"
          dangerouslySetInnerHTML={{
            __html: ansiToHtml(output.traceback.join('\n') || `${output.ename}: ${output.evalue}`),
          }}
        />
      );
    default:
      return <DataView output={output} />;
  }
}

interface Props {
  outputs: Output[];
  /** Offered on error outputs when the assistant can be asked. */
  onExplain?: (error: string) => void;
}

export function OutputArea({ outputs, onExplain }: Props) {
  if (!outputs.length) {
    return null;
  }
  return (
    <div className="cell-outputs" data-testid="cell-output">
      {outputs.map((output, i) => {
        const error = output.output_type === 'error' ? errorText(output) : null;
        return (
          <div key={i} className="output-item">
            <OutputView output={output} />
            {error && onExplain && (
              <button
                className="explain-error"
                data-testid="explain-error"
                title="Ask the assistant what this error means and how to fix it"
                onClick={() => onExplain(error)}
              >
                ✦ Explain this error
              </button>
            )}
          </div>
        );
      })}
    </div>
  );
}
