/** Replay a file's history: a scrubber over its saved versions, each in a read-only Monaco. */
import { useEffect, useRef, useState } from 'react';
import { errorMessage, type IdeClient } from '../api/client';
import type { ReplayVersion } from '../lib/activity';
import { languageForPath } from '../lib/languages';
import { formatWhen } from '../lib/time';
import { monaco } from '../monaco/setup';

interface Props {
  client: IdeClient;
  course: string;
  /** The student whose file it is ('' for oneself). */
  student: string;
  path: string;
  onClose: () => void;
}

export function Replay({ client, course, student, path, onClose }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const [versions, setVersions] = useState<ReplayVersion[]>([]);
  const [index, setIndex] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setProblem(null);
    client
      .replayVersions(course, student, path)
      .then((found) => {
        if (live) {
          setVersions(found);
          setIndex(Math.max(0, found.length - 1));
        }
      })
      .catch(async (e) => live && setProblem(await errorMessage(e)));
    return () => {
      live = false;
    };
  }, [client, course, student, path]);

  useEffect(() => {
    if (!host.current) {
      return;
    }
    const instance = monaco.editor.create(host.current, {
      value: '',
      language: languageForPath(path),
      readOnly: true,
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      scrollBeyondLastLine: false,
    });
    editor.current = instance;
    return () => {
      instance.getModel()?.dispose();
      instance.dispose();
      editor.current = null;
    };
  }, [path]);

  const version = versions[index];
  useEffect(() => {
    if (!version) {
      return;
    }
    let live = true;
    client
      .replayText(course, student, path, version.hash)
      .then((text) => {
        if (live) {
          editor.current?.getModel()?.setValue(text);
        }
      })
      .catch(async (e) => live && setProblem(await errorMessage(e)));
    return () => {
      live = false;
    };
  }, [client, course, student, path, version]);

  return (
    <div className="replay" data-testid="replay">
      <div className="panel-header">
        <span className="panel-title">
          Replay: {student ? `${student}: ` : ''}
          {path}
        </span>
        <span className="toolbar-spacer" />
        <button aria-label="Close the replay" data-testid="replay-close" onClick={onClose}>
          ×
        </button>
      </div>
      {problem && <div className="banner banner-error">{problem}</div>}
      {versions.length > 0 && (
        <div className="replay-controls">
          <input
            type="range"
            min={0}
            max={versions.length - 1}
            step={1}
            value={index}
            aria-label="Version"
            data-testid="replay-scrubber"
            onChange={(e) => setIndex(Number(e.target.value))}
          />
          <span data-testid="replay-label">
            version {index + 1} of {versions.length}
            {version?.time ? ` · ${formatWhen(version.time)}` : ''}
            {version?.current ? ' · current' : ''}
          </span>
        </div>
      )}
      <div className="replay-editor" ref={host} style={{ height: '40vh' }} />
    </div>
  );
}
