import type { QaCase } from './evaluate.ts';
import type { Retriever } from './retriever.ts';

/** The relevance floor that best separates a QA file's in-scope questions from its out-of-scope ones. */
export interface FloorRecommendation {
  recommended: number;
  /** In-scope questions whose expected passage scores at or above the floor, of those retrieval can find at all. */
  keptInScope: number;
  inScope: number;
  /** Out-of-scope questions whose best passage scores below the floor (so they get "not covered"). */
  refusedOutOfScope: number;
  outOfScope: number;
  /** The margin around the floor: the lowest score kept and the highest refused (0 when none is). */
  lowestKept: number;
  highestRefused: number;
}

interface Point {
  score: number;
  inScope: boolean;
}

/**
 * Recommends `RELEVANCE_FLOOR` for a knowledge version and QA file. `unfloored` must be built with a floor of 0, so
 * every score is seen: an in-scope question scores its best passage holding an expected fact (questions whose facts
 * no top-k passage holds are left out: no floor helps them), an out-of-scope question its best passage. The floor
 * is the one that gets most questions right, in the middle of the widest gap among equals; undefined without
 * in-scope questions to keep.
 */
export function recommendRelevanceFloor(
  unfloored: Retriever,
  cases: QaCase[],
  k: number,
): FloorRecommendation | undefined {
  const points: Point[] = [];
  for (const qa of cases) {
    const passages = unfloored.retrievePassages(qa.q, k);
    if ('out_of_scope' in qa) {
      points.push({ score: passages[0]?.score ?? 0, inScope: false });
      continue;
    }
    const expected = qa.expect_any.map((fact) => fact.toLowerCase());
    const hit = passages.find(({ passage }) =>
      expected.some((fact) => passage.text.toLowerCase().includes(fact)),
    );
    if (hit) points.push({ score: hit.score, inScope: true });
  }
  const inScope = points.filter((point) => point.inScope).length;
  if (inScope === 0) return undefined;
  const sorted = [...points].sort((a, b) => a.score - b.score);
  let best: { floor: number; correct: number; gap: number } | undefined;
  for (let split = 0; split <= sorted.length; split++) {
    const below = sorted[split - 1]?.score ?? 0;
    const above = sorted[split]?.score ?? below * 1.5 + 1;
    if (split > 0 && split < sorted.length && above === below) continue;
    const floor = (below + above) / 2;
    const correct = sorted.filter((point) => point.score >= floor === point.inScope).length;
    const gap = above - below;
    if (!best || correct > best.correct || (correct === best.correct && gap > best.gap))
      best = { floor, correct, gap };
  }
  const recommended = Math.round((best?.floor ?? 0) * 100) / 100;
  const scores = (kept: boolean) =>
    points.map((point) => point.score).filter((score) => score >= recommended === kept);
  const round = (score: number) => Math.round(score * 100) / 100;
  return {
    lowestKept: round(Math.min(...scores(true))),
    highestRefused: round(Math.max(0, ...scores(false))),
    recommended,
    keptInScope: points.filter((point) => point.inScope && point.score >= recommended).length,
    inScope,
    refusedOutOfScope: points.filter((point) => !point.inScope && point.score < recommended).length,
    outOfScope: points.length - inScope,
  };
}
