import type { ReplyLanguage } from './question.ts';
import type { ScoredPassage } from './retriever.ts';
import { splitSentences } from './sentences.ts';
import { tokenize } from './tokenize.ts';

const offlinePassageCount = 3;
const sentencesPerPassage = 2;

const wording = {
  en: {
    intro: 'From the knowledge file (offline mode, quoting the most relevant passages):',
    enable:
      '_No model is configured, so these are quotes, not a written answer. Set `LLM_API_KEY` (DeepSeek by default) to get one._',
  },
  zh: {
    intro: '知识库中最相关的段落（离线模式，仅引用原文）：',
    enable:
      '_尚未配置模型，以上为原文摘录而非生成的回答。设置 `LLM_API_KEY`（默认使用 DeepSeek）即可获得完整回答。_',
  },
};

/** The fixed reply when no passage matches, in the asker's language. Costs no model call. */
export function notCoveredAnswer(language: ReplyLanguage): string {
  return language === 'zh'
    ? '知识库没有涉及这个问题。我只能回答关于中国人工智能竞赛的问题，例如 DeepSeek、通义千问、“六小虎”或国家对人工智能的投资。'
    : 'The knowledge file doesn\'t cover that. I can answer questions about China\'s AI race, such as DeepSeek, Qwen, the "six little tigers" or state AI funding.';
}

function bestSentences(text: string, queryTerms: Set<string>): string {
  const sentences = splitSentences(text)
    .map((sentence) => sentence.trim())
    .filter(Boolean);
  const scored = sentences.map((sentence, index) => ({
    index,
    sentence,
    score: tokenize(sentence).filter((term) => queryTerms.has(term)).length,
  }));
  const chosen = [...scored]
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, sentencesPerPassage)
    .sort((a, b) => a.index - b.index);
  return chosen.map((entry) => entry.sentence).join(' ');
}

/**
 * The answer offered when no model is configured: the sentences of the top passages that share the most
 * terms with the question, each with its citation, and one line saying how to enable the model.
 */
export function extractiveAnswer(
  question: string,
  passages: ScoredPassage[],
  language: ReplyLanguage,
): string {
  const queryTerms = new Set(tokenize(question));
  const quotes = passages
    .slice(0, offlinePassageCount)
    .map(({ passage }, index) => `${index + 1}. ${bestSentences(passage.text, queryTerms)} [${index + 1}]`);
  return `${wording[language].intro}\n\n${quotes.join('\n')}\n\n${wording[language].enable}`;
}
