/** The instructor's list of an assignment's stdin and file tests: points, visibility, limits. */
import { newTest, VISIBILITY_LABELS, type TestDraft } from '../lib/assignmentForm';
import type { Visibility } from '../lib/assignments';

interface Props {
  tests: TestDraft[];
  onChange: (tests: TestDraft[]) => void;
}

const VISIBILITIES = Object.keys(VISIBILITY_LABELS) as Visibility[];

export function TestCasesEditor({ tests, onChange }: Props) {
  const change = (index: number, patch: Partial<TestDraft>) =>
    onChange(tests.map((t, i) => (i === index ? { ...t, ...patch } : t)));

  return (
    <fieldset className="test-cases-editor" data-testid="tests-editor">
      <legend>Tests (a notebook’s test cells are found without these)</legend>
      {tests.length === 0 && <div className="muted">No stdin or file tests.</div>}
      {tests.map((t, i) => (
        <div key={i} className="assignment test-draft" data-testid={`test-draft-${i}`}>
          <div className="assignment-actions">
            <strong>{t.kind === 'file' ? 'Test file' : 'Input and output'}</strong>
            <span className="toolbar-spacer" />
            <button
              aria-label={`Remove test ${i + 1}`}
              data-testid="test-remove"
              onClick={() => onChange(tests.filter((_, j) => j !== i))}
            >
              ×
            </button>
          </div>
          <label>
            Name
            <input
              data-testid="test-name"
              value={t.name}
              onChange={(e) => change(i, { name: e.target.value })}
            />
          </label>
          <div className="assignment-actions">
            <label>
              Points
              <input
                data-testid="test-points"
                size={5}
                value={t.points}
                onChange={(e) => change(i, { points: e.target.value })}
              />
            </label>
            <label>
              Students see it
              <select
                data-testid="test-visibility"
                value={t.visibility}
                onChange={(e) => change(i, { visibility: e.target.value as Visibility })}
              >
                {VISIBILITIES.map((v) => (
                  <option key={v} value={v}>
                    {VISIBILITY_LABELS[v]}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {t.kind === 'file' ? (
            <label>
              Test file in the folder (never released)
              <input
                data-testid="test-path"
                placeholder="test_hw.py"
                value={t.path}
                onChange={(e) => change(i, { path: e.target.value })}
              />
            </label>
          ) : (
            <>
              <label>
                File run
                <input
                  data-testid="test-program"
                  placeholder="main.c"
                  value={t.program}
                  onChange={(e) => change(i, { program: e.target.value })}
                />
              </label>
              <label>
                Input
                <textarea
                  data-testid="test-stdin"
                  rows={2}
                  value={t.stdin}
                  onChange={(e) => change(i, { stdin: e.target.value })}
                />
              </label>
              <label>
                Expected output
                <textarea
                  data-testid="test-expected"
                  rows={2}
                  value={t.expectedOutput}
                  onChange={(e) => change(i, { expectedOutput: e.target.value })}
                />
              </label>
            </>
          )}
          <div className="assignment-actions">
            <label>
              Time limit (s)
              <input
                data-testid="test-cpu"
                size={5}
                value={t.cpuSeconds}
                onChange={(e) => change(i, { cpuSeconds: e.target.value })}
              />
            </label>
            <label>
              Memory (MB)
              <input
                data-testid="test-memory"
                size={6}
                value={t.memoryMb}
                onChange={(e) => change(i, { memoryMb: e.target.value })}
              />
            </label>
          </div>
        </div>
      ))}
      <div className="assignment-actions">
        <button data-testid="test-add-file" onClick={() => onChange([...tests, newTest('file')])}>
          + Test file
        </button>
        <button data-testid="test-add-stdin" onClick={() => onChange([...tests, newTest('stdin')])}>
          + Input/output test
        </button>
      </div>
    </fieldset>
  );
}
