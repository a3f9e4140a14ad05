import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import type { Retriever } from './retriever.ts';

// `after`: the question asked just before in the same conversation, for a follow-up ("How much is each of
// them worth?"); `eval --answers` asks it first.
const QaLine = z.union([
  z.object({
    q: z.string().min(1),
    lang: z.string().optional(),
    after: z.string().min(1).optional(),
    expect_any: z.array(z.string().min(1)).min(1),
  }),
  z.object({
    q: z.string().min(1),
    lang: z.string().optional(),
    after: z.string().min(1).optional(),
    out_of_scope: z.literal(true),
  }),
]);

/** One evaluation question: what should be found, or that nothing should be. */
export type QaCase = z.infer<typeof QaLine>;

/** Reads a JSONL QA file; a malformed line fails with its line number. */
export async function readQaFile(path: string): Promise<QaCase[]> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `QA file "${path}" cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  return content
    .split(/\r?\n/)
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line)
    .map(({ line, number }) => {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new ConfigError(`QA file "${path}" line ${number}: not valid JSON`);
      }
      const parsed = QaLine.safeParse(json);
      if (!parsed.success) {
        throw new ConfigError(
          `QA file "${path}" line ${number}: needs "q" and either "expect_any" or "out_of_scope"`,
        );
      }
      return parsed.data;
    });
}

/** The outcome of one question: the 1-based rank of the first relevant passage, or why it failed. */
export interface QaResult {
  q: string;
  lang: string;
  outOfScope: boolean;
  /** In scope: rank of the first passage containing an expected fact (undefined when none in top k). */
  rank?: number;
  /** Out of scope: how many passages were (wrongly) retrieved. */
  retrieved: number;
  passed: boolean;
}

/** Aggregate retrieval quality for one group of questions. */
export interface RetrievalScores {
  questions: number;
  recallAt1: number;
  recallAtK: number;
  mrr: number;
}

/** A whole evaluation run: per-language scores, out-of-scope rejection, and every miss. */
export interface EvaluationReport {
  k: number;
  overall: RetrievalScores;
  byLanguage: Record<string, RetrievalScores>;
  outOfScope: { questions: number; rejected: number; rejectionRate: number };
  results: QaResult[];
}

/** Judges one question against the retriever: recalled when a top-k passage contains an expected string. */
export function evaluateCase(retriever: Retriever, qa: QaCase, k: number): QaResult {
  const passages = retriever.retrievePassages(qa.q, k);
  const lang = qa.lang ?? 'en';
  if ('out_of_scope' in qa) {
    return { q: qa.q, lang, outOfScope: true, retrieved: passages.length, passed: passages.length === 0 };
  }
  const expected = qa.expect_any.map((fact) => fact.toLowerCase());
  const index = passages.findIndex(({ passage }) => {
    const text = passage.text.toLowerCase();
    return expected.some((fact) => text.includes(fact));
  });
  const result: QaResult = {
    q: qa.q,
    lang,
    outOfScope: false,
    retrieved: passages.length,
    passed: index !== -1,
  };
  if (index !== -1) result.rank = index + 1;
  return result;
}

function score(results: QaResult[]): RetrievalScores {
  const n = results.length || 1;
  return {
    questions: results.length,
    recallAt1: results.filter((r) => r.rank === 1).length / n,
    recallAtK: results.filter((r) => r.rank !== undefined).length / n,
    mrr: results.reduce((sum, r) => sum + (r.rank ? 1 / r.rank : 0), 0) / n,
  };
}

/** Summarizes per-question results into recall@1, recall@k and MRR, overall and per language. */
export function summarizeEvaluation(results: QaResult[], k: number): EvaluationReport {
  const inScope = results.filter((r) => !r.outOfScope);
  const outOfScope = results.filter((r) => r.outOfScope);
  const languages = [...new Set(inScope.map((r) => r.lang))].sort();
  const rejected = outOfScope.filter((r) => r.passed).length;
  return {
    k,
    overall: score(inScope),
    byLanguage: Object.fromEntries(
      languages.map((lang) => [lang, score(inScope.filter((r) => r.lang === lang))]),
    ),
    outOfScope: {
      questions: outOfScope.length,
      rejected,
      rejectionRate: outOfScope.length ? rejected / outOfScope.length : 1,
    },
    results,
  };
}
