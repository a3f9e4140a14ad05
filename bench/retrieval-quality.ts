/**
 * Section 1: does retrieval find the passage that answers the question, in English and in Chinese, and
 * find nothing for questions the knowledge file does not cover? Poquan's retriever is compared in the same
 * run with plain BM25 (MiniSearch's default tokenizer, no glossary) and with sending the whole file.
 */
import {
  type EvaluationReport,
  evaluateCase,
  type QaCase,
  type RetrievalScores,
  summarizeEvaluation,
} from '../src/core/evaluate.ts';
import type { KnowledgeBase } from '../src/core/knowledge.ts';
import { buildPrompt } from '../src/core/prompt.ts';
import { defaultMinScore } from '../src/core/retriever.ts';
import { type Bm25Options, createBm25Retriever } from '../src/search/bm25-retriever.ts';
import { estimateTokens } from '../test/fakes/fake-llm.ts';
import { loadBenchInputs, loadWholeFiles } from './inputs.ts';
import { formatCount, formatPercent, type SectionResult, type Table } from './report.ts';
import { median } from './stats.ts';

/** Passages per question: the bot's default RETRIEVAL_TOP_K. */
const k = 4;

/**
 * Plain BM25 as a first attempt would build it: split on spaces and punctuation (MiniSearch's default
 * tokenizer), lower-case, nothing else. A Chinese sentence has no spaces, so it becomes one long term.
 */
function plainTokenize(text: string): string[] {
  return text
    .split(/[\n\r\p{Z}\p{P}]+/u)
    .map((term) => term.toLowerCase())
    .filter(Boolean);
}

interface Variant {
  name: string;
  options: Bm25Options;
}

interface VariantResult {
  name: string;
  minScore: number;
  thresholdRule: string;
  report: EvaluationReport;
  /** Estimated prompt tokens (chars/4) of a first question, per in-scope question. */
  promptTokens: number[];
}

function evaluate(knowledge: KnowledgeBase, qa: QaCase[], options: Bm25Options): EvaluationReport {
  const retriever = createBm25Retriever(knowledge, options);
  return summarizeEvaluation(
    qa.map((question) => evaluateCase(retriever, question, k)),
    k,
  );
}

/**
 * The lowest absolute score floor (in steps of 0.5) at which every out-of-scope question retrieves nothing.
 * That is how Poquan's own default was chosen, so applying it to the baseline makes the comparison fair.
 */
function calibrateMinScore(knowledge: KnowledgeBase, qa: QaCase[], options: Bm25Options): number {
  for (let minScore = 0; minScore <= 60; minScore += 0.5) {
    if (evaluate(knowledge, qa, { ...options, minScore }).outOfScope.rejectionRate === 1) return minScore;
  }
  return Number.POSITIVE_INFINITY;
}

function promptTokensFor(knowledge: KnowledgeBase, qa: QaCase[], options: Bm25Options): number[] {
  const retriever = createBm25Retriever(knowledge, options);
  return qa
    .filter((question) => !('out_of_scope' in question))
    .map((question) => {
      const messages = buildPrompt(question.q, retriever.retrievePassages(question.q, k), []);
      return estimateTokens(messages.map((message) => message.content).join(''));
    });
}

function scoreCells(scores: RetrievalScores | undefined): string[] {
  if (!scores) return ['n/a', 'n/a', 'n/a'];
  return [formatPercent(scores.recallAt1), formatPercent(scores.recallAtK), scores.mrr.toFixed(3)];
}

/** Section 1 of `npm run bench`: retrieval quality of Poquan and both baselines; see the file comment. */
export async function measureRetrievalQuality(): Promise<SectionResult> {
  const { knowledge, qa } = await loadBenchInputs();
  const variants: Variant[] = [
    { name: 'Poquan (bilingual tokenizer + glossary)', options: {} },
    { name: 'Poquan tokenizer, no glossary', options: { expandWithGlossary: false } },
    {
      name: 'plain BM25 (no CJK tokenizer, no glossary)',
      options: { expandWithGlossary: false, tokenizer: plainTokenize },
    },
  ];
  const results: VariantResult[] = [];
  for (const variant of variants) {
    results.push({
      name: variant.name,
      minScore: defaultMinScore,
      thresholdRule: "Poquan's default",
      report: evaluate(knowledge, qa, variant.options),
      promptTokens: promptTokensFor(knowledge, qa, variant.options),
    });
    const calibrated = calibrateMinScore(knowledge, qa, variant.options);
    if (calibrated !== defaultMinScore) {
      const options = { ...variant.options, minScore: calibrated };
      results.push({
        name: `${variant.name}, recalibrated`,
        minScore: calibrated,
        thresholdRule: 'lowest that rejects all out-of-scope',
        report: evaluate(knowledge, qa, options),
        promptTokens: promptTokensFor(knowledge, qa, options),
      });
    }
  }

  const wholeFiles = await loadWholeFiles(knowledge);
  const wholeFileTokens = qa
    .filter((question) => !('out_of_scope' in question))
    .map((question) =>
      estimateTokens(
        buildPrompt(question.q, wholeFiles, [])
          .map((message) => message.content)
          .join(''),
      ),
    );
  const poquan = results[0]?.report as EvaluationReport;
  const languages = Object.keys(poquan.byLanguage).sort();

  const table: Table = {
    title: `Retrieval quality on test/fixtures/qa.jsonl (k=${k}; ${poquan.overall.questions} in-scope questions: ${languages.map((lang) => `${poquan.byLanguage[lang]?.questions} ${lang}`).join(', ')}; ${poquan.outOfScope.questions} out of scope)`,
    columns: [
      'retriever',
      'min score',
      ...languages.flatMap((lang) => [`${lang} R@1`, `${lang} R@${k}`, `${lang} MRR`]),
      'out-of-scope rejected',
      'prompt tokens (median)',
    ],
    rows: [
      ...results.map((result) => [
        result.name,
        `${result.minScore} (${result.thresholdRule})`,
        ...languages.flatMap((lang) => scoreCells(result.report.byLanguage[lang])),
        `${result.report.outOfScope.rejected}/${result.report.outOfScope.questions} (${formatPercent(result.report.outOfScope.rejectionRate)})`,
        formatCount(median(result.promptTokens)),
      ]),
      [
        'no retrieval: whole knowledge file in the prompt',
        'none',
        ...languages.flatMap(() => ['100% (trivial)', '100% (trivial)', '1.000 (trivial)']),
        'n/a: left to the model',
        formatCount(median(wholeFileTokens)),
      ],
    ],
    notes: [
      'R@1 / R@4: share of questions whose first / any of the top 4 passages contains an expected fact; MRR: mean of 1/rank.',
      'min score: the absolute BM25 floor below which a passage is noise (every row also drops passages under 25% of the best score).',
      'prompt tokens: estimated as characters/4 (the fake LLM’s estimate) over the full first-question prompt (rules + passages + question).',
      'Out-of-scope questions retrieve nothing with Poquan, so they cost no model call at all (see section 2).',
    ],
  };

  const notFirst = poquan.results.filter((r) => !r.outOfScope && r.rank !== 1);
  if (notFirst.length > 0) {
    table.notes?.push(
      `Poquan ranks the answering passage below first for: ${notFirst.map((r) => `"${r.q}" (${r.rank === undefined ? 'not in the top 4' : `rank ${r.rank}`})`).join('; ')}.`,
    );
  }

  return {
    tables: [table],
    goals: [
      ...languages.map((lang) => {
        const recall = poquan.byLanguage[lang]?.recallAtK ?? 0;
        return {
          goal: `${lang} recall@${k} ≥ 90% (the bar test/unit/retrieval-quality.test.ts holds)`,
          measured: formatPercent(recall),
          met: recall >= 0.9,
        };
      }),
      {
        goal: 'every out-of-scope question retrieves nothing',
        measured: `${poquan.outOfScope.rejected}/${poquan.outOfScope.questions}`,
        met: poquan.outOfScope.rejectionRate === 1,
      },
    ],
    data: {
      k,
      variants: results.map((result) => ({
        name: result.name,
        minScore: result.minScore,
        thresholdRule: result.thresholdRule,
        overall: result.report.overall,
        byLanguage: result.report.byLanguage,
        outOfScope: result.report.outOfScope,
        promptTokensMedian: median(result.promptTokens),
        notFirst: result.report.results
          .filter((r) => (r.outOfScope ? !r.passed : r.rank !== 1))
          .map((r) => ({ q: r.q, outOfScope: r.outOfScope, rank: r.rank, retrieved: r.retrieved })),
      })),
      wholeFile: { recall: 1, promptTokensMedian: median(wholeFileTokens) },
    },
  };
}
