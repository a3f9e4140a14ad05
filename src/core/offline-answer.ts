import { catalogFor } from './catalog/catalog.ts';
import type { KnowledgeBase } from './knowledge.ts';
import type { ReplyLanguage } from './question.ts';
import type { ScoredPassage } from './retriever.ts';
import { createSentenceRanker, type ScoredSentence, type SentenceRanker } from './sentence-scoring.ts';
import { defaultTopic, type Topic } from './topic.ts';

/** One quote that answers, two that support it: enough to read as an answer, short enough for a chat. */
const offlineQuoteCount = 3;

/**
 * How many retrieved passages offline quotes choose sentences from, at least: more than a model is given,
 * since keyword search often ranks the passage holding the answer ("founded in 2023") below ones that only
 * repeat the question's words, and the sentence ranker tells them apart.
 */
export const offlinePassagePool = 8;

/** The fixed reply when no passage matches, in the asker's language, naming the topic. Costs no model call. */
export function notCoveredAnswer(language: ReplyLanguage, topic: Topic = defaultTopic): string {
  return catalogFor(language).answers.notCovered(topic[language], topic.examples?.[language]);
}

const rankers = new WeakMap<KnowledgeBase, SentenceRanker>();

/**
 * The sentence ranker for a knowledge version, built on first use and dropped with the knowledge; without
 * the knowledge, one over just the passages given.
 */
function rankerFor(knowledge: KnowledgeBase | undefined, passages: ScoredPassage[]): SentenceRanker {
  if (!knowledge) {
    return createSentenceRanker({
      passages: passages.map(({ passage }) => passage),
      glossary: [],
      files: [],
      version: '',
    });
  }
  let ranker = rankers.get(knowledge);
  if (!ranker) {
    ranker = createSentenceRanker(knowledge);
    rankers.set(knowledge, ranker);
  }
  return ranker;
}

/** The best sentence, then supporting ones, at most two from any one passage so the quotes range wider. */
function chooseQuotes(ranked: ScoredSentence[]): ScoredSentence[] {
  const chosen: ScoredSentence[] = [];
  for (const candidate of ranked) {
    if (chosen.length === offlineQuoteCount) break;
    const fromSamePassage = chosen.filter((quote) => quote.passageIndex === candidate.passageIndex);
    if (fromSamePassage.length < 2 && !chosen.some((quote) => quote.sentence === candidate.sentence))
      chosen.push(candidate);
  }
  return chosen;
}

/**
 * The answer offered when no model is configured: the sentence of the given passages that best answers the
 * question first (see `createSentenceRanker`), then supporting sentences, each verbatim and cited `[n]` with
 * its passage's 1-based position in `passages`, and one line saying how to enable the model. `ranker`, when
 * given, must be `knowledge`'s (built with its version); otherwise it is built on first use.
 */
export function extractiveAnswer(
  question: string,
  passages: ScoredPassage[],
  language: ReplyLanguage,
  knowledge: KnowledgeBase | undefined,
  ranker: SentenceRanker = rankerFor(knowledge, passages),
): string {
  const quotes = chooseQuotes(ranker(question, passages)).map(
    ({ sentence, passageIndex }) => `- ${sentence} [${passageIndex + 1}]`,
  );
  const { answers } = catalogFor(language);
  return `${answers.offlineIntro}\n\n${quotes.join('\n')}\n\n${answers.offlineEnable}`;
}
