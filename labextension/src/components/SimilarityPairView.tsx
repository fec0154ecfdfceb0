/** Two students' files side by side, the code they share highlighted. */
import { useEffect, useState } from 'react';
import {
  refusal,
  type IdeClient,
  type SimilarityDetail,
  type SimilarityRegion,
} from '../api/client';

interface Props {
  client: IdeClient;
  course: string;
  assignment: string;
  id: number;
}

/** A share (0..1) as a percentage. */
export function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

/** Split a text into plain and matched pieces (regions may overlap or come unsorted). */
export function pieces(
  text: string,
  regions: SimilarityRegion[],
): { text: string; hit: boolean }[] {
  const sorted = [...regions].sort((x, y) => x.start - y.start);
  const out: { text: string; hit: boolean }[] = [];
  let at = 0;
  for (const r of sorted) {
    const start = Math.max(at, Math.min(r.start, text.length));
    const end = Math.min(r.end, text.length);
    if (end <= start) {
      continue;
    }
    if (start > at) {
      out.push({ text: text.slice(at, start), hit: false });
    }
    out.push({ text: text.slice(start, end), hit: true });
    at = end;
  }
  if (at < text.length) {
    out.push({ text: text.slice(at), hit: false });
  }
  return out;
}

function Side({
  title,
  text,
  regions,
  testid,
}: {
  title: string;
  text: string;
  regions: SimilarityRegion[];
  testid: string;
}) {
  return (
    <div className="similarity-side" data-testid={testid} style={{ flex: 1, minWidth: 0 }}>
      <div className="muted">
        {title} · {regions.length} matched region(s), lines{' '}
        {regions.map((r) => `${r.startLine}–${r.endLine}`).join(', ')}
      </div>
      <pre style={{ maxHeight: '60vh', overflow: 'auto', margin: 0 }}>
        {pieces(text, regions).map((p, i) =>
          p.hit ? (
            <mark key={i} className="similarity-match">
              {p.text}
            </mark>
          ) : (
            <span key={i}>{p.text}</span>
          ),
        )}
      </pre>
    </div>
  );
}

export function SimilarityPairView({ client, course, assignment, id }: Props) {
  const [detail, setDetail] = useState<SimilarityDetail | null>(null);
  const [which, setWhich] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setDetail(null);
    setWhich(0);
    client
      .similarityPair(course, assignment, id)
      .then((found) => live && setDetail(found))
      .catch(async (e: unknown) => live && setProblem((await refusal(e)).message));
    return () => {
      live = false;
    };
  }, [client, course, assignment, id]);

  if (problem) {
    return <div className="banner banner-error">{problem}</div>;
  }
  if (!detail) {
    return <div className="loading">Loading the pair…</div>;
  }
  const match = detail.matches[which];
  return (
    <div className="similarity-pair" data-testid="similarity-pair-view">
      <div className="panel-header">
        <span className="panel-title">
          #{detail.rank}: {detail.a.student} · {detail.b.student} — {percent(detail.score)}
        </span>
        {detail.matches.length > 1 && (
          <select value={which} onChange={(e) => setWhich(Number(e.target.value))}>
            {detail.matches.map((m, i) => (
              <option key={`${m.pathA}|${m.pathB}`} value={i}>
                {m.pathA} ↔ {m.pathB}
              </option>
            ))}
          </select>
        )}
      </div>
      {!match && <div className="panel-note muted">No matched regions beyond the starter.</div>}
      {match && (
        <div style={{ display: 'flex', gap: 8 }}>
          <Side
            title={`${detail.a.student}: ${match.pathA} (${percent(match.similarityA)})`}
            text={detail.filesA[match.pathA]?.text ?? ''}
            regions={match.regionsA}
            testid="similarity-side-a"
          />
          <Side
            title={`${detail.b.student}: ${match.pathB} (${percent(match.similarityB)})`}
            text={detail.filesB[match.pathB]?.text ?? ''}
            regions={match.regionsB}
            testid="similarity-side-b"
          />
        </div>
      )}
    </div>
  );
}
