import type { KnowledgeBase } from './knowledge.ts';
import type { ReplyLanguage } from './question.ts';
import type { ScoredPassage } from './retriever.ts';
import { createSentenceRanker, type ScoredSentence, type SentenceRanker } from './sentence-scoring.ts';
import { defaultTopic, type Topic } from './topic.ts';

/** One quote that answers, two that support it: enough to read as an answer, short enough for a chat. */
const offlineQuoteCount = 3;

const wording = {
  en: {
    intro: 'From the knowledge file (offline mode, quoting the most relevant sentences):',
    enable:
      '_No model is configured, so these are quotes, not a written answer. Set `LLM_API_KEY` (DeepSeek by default) to get one._',
  },
  zh: {
    intro: '知识库中最相关的原文语句（离线模式，仅引用原文）：',
    enable:
      '_尚未配置模型，以上为原文摘录而非生成的回答。设置 `LLM_API_KEY`（默认使用 DeepSeek）即可获得完整回答。_',
  },
};

/** The fixed reply when no passage matches, in the asker's language, naming the topic. Costs no model call. */
export function notCoveredAnswer(language: ReplyLanguage, topic: Topic = defaultTopic): string {
  const examples = topic.examples?.[language];
  return language === 'zh'
    ? `知识库没有涉及这个问题。我只能回答关于${topic.zh}的问题${examples ? `，例如 ${examples}` : ''}。`
    : `The knowledge file doesn't cover that. I can answer questions about ${topic.en}${examples ? `, such as ${examples}` : ''}.`;
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
 * its passage's 1-based position in `passages`, and one line saying how to enable the model.
 */
export function extractiveAnswer(
  question: string,
  passages: ScoredPassage[],
  language: ReplyLanguage,
  knowledge: KnowledgeBase | undefined,
): string {
  const quotes = chooseQuotes(rankerFor(knowledge, passages)(question, passages)).map(
    ({ sentence, passageIndex }) => `- ${sentence} [${passageIndex + 1}]`,
  );
  return `${wording[language].intro}\n\n${quotes.join('\n')}\n\n${wording[language].enable}`;
}
