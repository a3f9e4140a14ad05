/**
 * What the bot answers questions about, in each language it speaks: the words that complete "I can answer
 * questions about …". It belongs to the knowledge, not to the code, so a bot on a café's FAQ says it
 * answers questions about the café.
 */
export interface Topic {
  en: string;
  zh: string;
  /** A few things the topic covers, named after it in the "not covered" reply and in /help. */
  examples?: { en: string; zh: string };
}

/** The shipped knowledge's topic: used when neither `BOT_TOPIC` nor a knowledge file's front matter names one. */
export const defaultTopic: Topic = {
  en: "China's AI race",
  zh: '中国人工智能竞赛',
  examples: {
    en: 'DeepSeek, Qwen, the "six little tigers" or state AI funding',
    zh: 'DeepSeek、通义千问、“六小虎”或国家对人工智能的投资',
  },
};

/** Longest topic line accepted, in characters: it has to fit a sentence and a command description. */
export const maxTopicChars = 120;

/**
 * The topic a front matter declares with `topic` (English) and `topic_zh` (Chinese): undefined when it names
 * none, or a problem when it names one in only one language or not as one short line of text.
 */
export function topicFromFrontMatter(meta: Record<string, unknown>): Topic | { problem: string } | undefined {
  const { topic: en, topic_zh: zh } = meta;
  if (en === undefined && zh === undefined) return undefined;
  for (const [key, value] of [
    ['topic', en],
    ['topic_zh', zh],
  ] as const) {
    if (value === undefined)
      return {
        problem: `sets ${key === 'topic' ? 'topic_zh' : 'topic'} but not ${key}: give both languages`,
      };
    if (typeof value !== 'string' || !value.trim() || /[\r\n]/.test(value) || value.length > maxTopicChars)
      return { problem: `${key} must be one line of text of at most ${maxTopicChars} characters` };
  }
  return { en: (en as string).trim(), zh: (zh as string).trim() };
}

/**
 * The topic in force: the `BOT_TOPIC`/`BOT_TOPIC_ZH` setting when set, else the first knowledge file (in name
 * order) that declares one, else the default.
 */
export function resolveTopic(setting: Topic | undefined, knowledgeTopic: Topic | undefined): Topic {
  return setting ?? knowledgeTopic ?? defaultTopic;
}
