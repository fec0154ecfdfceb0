/** A tree of variables: each one with children expands on click, loaded when first opened. */
import { useState } from 'react';
import type { Variable } from '../lib/debugSession';

interface Props {
  variables: Variable[];
  load: (ref: number) => Promise<Variable[]>;
  depth?: number;
}

function VariableRow({
  variable,
  load,
  depth,
}: {
  variable: Variable;
  load: Props['load'];
  depth: number;
}) {
  const [children, setChildren] = useState<Variable[] | null>(null);
  const [open, setOpen] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const expandable = variable.ref > 0;
  const toggle = async () => {
    if (!expandable) {
      return;
    }
    if (!open && children === null) {
      try {
        setChildren(await load(variable.ref));
      } catch (e) {
        setProblem(String((e as Error).message ?? e));
      }
    }
    setOpen(!open);
  };
  return (
    <li>
      <div
        className="debug-variable"
        data-testid="debug-variable"
        data-name={variable.name}
        data-depth={depth}
        style={{ paddingLeft: depth * 12 }}
        onClick={() => void toggle()}
        title={variable.type}
      >
        <span className="debug-expander">{expandable ? (open ? '▾' : '▸') : ' '}</span>
        <span className="debug-variable-name">{variable.name}</span>
        <span className="muted">: </span>
        <span className="debug-variable-value" data-testid="debug-variable-value">
          {variable.value}
        </span>
      </div>
      {problem && <div className="banner banner-error">{problem}</div>}
      {open && children && <DebugVariables variables={children} load={load} depth={depth + 1} />}
    </li>
  );
}

export function DebugVariables({ variables, load, depth = 0 }: Props) {
  return (
    <ul className="debug-variables">
      {variables.map((v) => (
        <VariableRow key={`${v.name}:${v.ref}`} variable={v} load={load} depth={depth} />
      ))}
    </ul>
  );
}

interface ScopeProps {
  name: string;
  /** Loaded already (the first scope), or null: loaded when first opened. */
  variables: Variable[] | null;
  scopeRef: number;
  load: (ref: number) => Promise<Variable[]>;
}

/** One scope of a frame: Locals open with its variables; others load when opened. */
export function DebugScope({ name, variables, scopeRef, load }: ScopeProps) {
  const [loaded, setLoaded] = useState<Variable[] | null>(variables);
  const [problem, setProblem] = useState<string | null>(null);
  const onToggle = async (open: boolean) => {
    if (open && loaded === null) {
      try {
        setLoaded(await load(scopeRef));
      } catch (e) {
        setProblem(String((e as Error).message ?? e));
      }
    }
  };
  return (
    <details
      open={variables !== null}
      data-testid={`debug-scope-${name}`}
      onToggle={(e) => void onToggle((e.target as HTMLDetailsElement).open)}
    >
      <summary>{name}</summary>
      {problem && <div className="banner banner-error">{problem}</div>}
      {loaded && <DebugVariables variables={loaded} load={load} />}
    </details>
  );
}
