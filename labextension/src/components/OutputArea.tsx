/**
 * A code cell's outputs: streams, errors with tracebacks, and rich mime data. HTML outputs live
 * in sandboxed frames; SVG is shown as an image (no scripts, no fetches); markdown is sanitised.
 */
import { ansiToHtml, stripAnsi } from '../lib/ansi';
import { bytesToBase64 } from '../lib/download';
import { joinText, pickMime, type DataOutput, type Output } from '../lib/outputs';
import { NO_REMOTE, type ContentPolicy } from '../lib/sanitize';
import { HtmlOutputFrame } from './HtmlOutputFrame';
import { RenderedMarkdown } from './RenderedMarkdown';

function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;base64,${bytesToBase64(new TextEncoder().encode(svg))}`;
}

function DataView({ output, policy }: { output: DataOutput; policy: ContentPolicy }) {
  const mime = pickMime(output.data);
  const value = output.data[mime ?? ''];
  switch (mime) {
    case 'text/html':
      return <HtmlOutputFrame html={joinText(value)} policy={policy} />;
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
      // As an image, SVG can neither run scripts nor load anything from elsewhere.
      return (
        <img className="output-image output-svg" alt="output" src={svgDataUrl(joinText(value))} />
      );
    case 'text/markdown':
      return (
        <RenderedMarkdown
          className="output-markdown markdown"
          source={joinText(value)}
          policy={policy}
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

function OutputView({ output, policy }: { output: Output; policy: ContentPolicy }) {
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
      return <DataView output={output} policy={policy} />;
  }
}

interface Props {
  outputs: Output[];
  /** Offered on error outputs when the assistant can be asked. */
  onExplain?: (error: string) => void;
  /** Where images and links in rich outputs may point. */
  policy?: ContentPolicy;
}

export function OutputArea({ outputs, onExplain, policy = NO_REMOTE }: Props) {
  if (!outputs.length) {
    return null;
  }
  return (
    <div className="cell-outputs" data-testid="cell-output">
      {outputs.map((output, i) => {
        const error = output.output_type === 'error' ? errorText(output) : null;
        return (
          <div key={i} className="output-item">
            <OutputView output={output} policy={policy} />
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
