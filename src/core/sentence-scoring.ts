import { extractFigures } from './figures.ts';
import { createGlossaryMatcher, type GlossaryEntry } from './glossary.ts';
import type { KnowledgeBase, Passage } from './knowledge.ts';
import { paraphraseGroupsOf } from './paraphrases.ts';
import type { ScoredPassage } from './retriever.ts';
import { splitSentences } from './sentences.ts';
import { containsCjk, tokenize } from './tokenize.ts';

/** One sentence of a given passage, with how well it answers the question; `passageIndex` is 0-based. */
export interface ScoredSentence {
  passageIndex: number;
  sentence: string;
  score: number;
}

/** Ranks the sentences of the passages given for a question, best answer first. */
export type SentenceRanker = (question: string, passages: ScoredPassage[]) => ScoredSentence[];

/** What a question asks for, when its wording says so. */
type QuestionKind = 'person' | 'time' | 'amount' | 'definition' | 'list';

// "how old", "worth" and 多大 ask for a number as much as "how much" does; "target year" for a year as much
// as "when" does.
const kindCues: Array<[QuestionKind, RegExp]> = [
  [
    'time',
    /\bwhen\b|\b(?:what|which|target)\s+(?:\w+\s+)?(?:year|date)\b|哪一?年|什么时候|何时|几月|哪一?天|几号|年份|日期/i,
  ],
  [
    'amount',
    /\bhow (?:much|many|big|large|old|valuable)\b|\bworth\b|\bvaluation\b|多少|多大|多高|几个|几家|几席|几位|规模|估值/i,
  ],
  ['person', /\bwho(?:m|se)?\b|谁|哪位|何人/i],
  [
    'list',
    /^\s*(?:name|list)\b|\bwhich\s+(?:\w+\s+){0,2}(?:make up|are in|belong)|\bwho are the\b|包括|包含|有哪些|都有谁|名单/i,
  ],
];

/** Words that say what kind of answer is wanted, not what it is about: "what year", "target date". */
const cueWords: Partial<Record<QuestionKind, Set<string>>> = {
  time: new Set(['year', 'date']),
};

/**
 * "Who is J.S. Tan?", "What are the six little tigers?", "马睿是谁？": asks what someone or something is. The
 * subject is short and has no clause of its own ("who is the person that started …" asks for a name).
 */
const definitionQuestion =
  /^\s*(?:who|what)\s+(?:is|are|was|were)\s+(?!.*\b(?:that|who|which|whose|worth|called|named|name)\b)(?:\S+\s*){1,5}[?？]?\s*$|^\s*(?:tell me about|describe)\b|^[^，,的]{1,20}?(?:是谁|是什么|是何人)|介绍一下/iu;

/** A sentence that says what its subject is: "J.S. Tan, a PhD candidate …", "DeepSeek is the standout …". */
const definingOpening = /^([^,:;]{1,60}?)(?:,\s+(?:a|an|the)\s|\s+(?:is|are|was|were)\s+(?:a|an|the)\s)/iu;

/** A sentence that opens by pointing back ("It", "They", "One of them", 它, 该): it continues the one before. */
const anaphoricOpening =
  /^(?:(?:it|its|they|their|these|those|this|he|his|she|her|such)\b|(?:one|some|many|each|all|most) of (?:them|these|those)\b|[它他她该其这此])/iu;

/** Three or more names in a row, "Zhipu AI, MiniMax, Baichuan AI": a sentence that lists. */
const enumeration = /(?:\p{Lu}[\p{L}\p{N}.-]*(?:\s+\p{Lu}[\p{L}\p{N}.-]*)*,\s+){2,}/u;

// The weights below were tuned on test/fixtures/qa.jsonl, qa-heldout-quotes.jsonl and qa-heldout.jsonl, then
// measured on test/fixtures/qa-unseen-quotes.jsonl, written before the tuning and never tuned on.

/**
 * Glossary expansions stand in for the words of a Chinese question, but say less than the user's own words;
 * for an English question they are same-language synonyms ("founded" → "established"), weaker still.
 */
const expansionWeight = { crossLanguage: 0.8, sameLanguage: 0.5 };
/** Paraphrases (src/core/paraphrases.ts) are the question's meaning in the text's words, chosen by hand. */
const paraphraseWeight = 0.7;
/**
 * A sentence with what the question asks for (a name, a year, an amount) next to what it asks about beats
 * one that only repeats the question; one with it further away still counts for something.
 */
const kindBonus = { near: 3, present: 1 };
/**
 * A name the question uses (DeepSeek, ByteDance, 马睿 → Rui Ma) says what the answer is about: a sentence
 * about it beats one sharing only other words, however rare, even when the name is everywhere in the knowledge.
 */
const nameBonus = 0.5;
/** Retrieval already judged the whole passage; its share of the best score breaks ties between sentences. */
const passageWeight = 1;

const yearOrDate =
  /\b(?:1[89]|20)\d{2}\b|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2}\b|\d{1,4}\s*[年月日]/gu;

function isYear(value: number): boolean {
  return Number.isInteger(value) && value >= 1800 && value <= 2100;
}

/**
 * Words that begin with a capital wherever the knowledge uses them, in runs of two or more ("Liang Wenfeng",
 * "J.S. Tan"): names of people or places. "New Year" is not one, since the knowledge also writes "year".
 */
function createNameFinder(statistics: SentenceStatistics): (sentence: string) => string[] {
  const isNameWord = (word: string) =>
    /^(?:\p{Lu}\.)+$/u.test(word) ||
    (/^\p{Lu}\p{Ll}+$/u.test(word) && !statistics.writesInLowercase(word.toLowerCase()));
  return (sentence) => {
    const names: string[] = [];
    let run: string[] = [];
    const flush = () => {
      if (run.length >= 2) names.push(run.join(' '));
      run = [];
    };
    for (const token of sentence.split(/\s+/)) {
      const opened = token.replace(/^[("“‘]+/u, '');
      if (/^(?:\p{Lu}\.)+$/u.test(opened)) {
        run.push(opened);
        continue;
      }
      // A name ends at a comma, a bracket, a possessive or the end of the sentence.
      const word = opened.replace(/(?:['’]s)?[)"”’,;:.!?]*$/u, '');
      if (isNameWord(word)) run.push(word);
      else flush();
      if (word !== opened) flush();
    }
    flush();
    return names;
  };
}

/** "Who founded X?" asks for a name; "Who is Neil Zhu?" names the person and asks what they are. */
function kindsOf(question: string, namesInQuestion: string[]): Set<QuestionKind> {
  const kinds = new Set(kindCues.filter(([, cue]) => cue.test(question)).map(([kind]) => kind));
  const asksForFigureOrList = kinds.has('time') || kinds.has('amount') || kinds.has('list');
  if (definitionQuestion.test(question) && !asksForFigureOrList) {
    kinds.delete('person');
    kinds.add('definition');
  }
  if (namesInQuestion.length > 0) kinds.delete('person');
  return kinds;
}

/**
 * The terms one meaning adds, as alternatives (LLM, large language model), without the question's own terms
 * or repeats (founder/founders stem alike).
 */
function alternativesOf(expansions: string[], own: Set<string>): string[][] {
  const seen = new Set<string>();
  const alternatives: string[][] = [];
  for (const expansion of expansions) {
    const terms = [...new Set(tokenize(expansion))].filter((term) => !own.has(term));
    const key = terms.join(' ');
    if (terms.length === 0 || seen.has(key)) continue;
    seen.add(key);
    alternatives.push(terms);
  }
  return alternatives;
}

/** How far around an answer (in characters) a question term must be for it to answer the question. */
const nearChars = 30;

/** True when one of `spans` stands next to a question term: "founder Liang Wenfeng", "founded in 2023". */
function isNear(sentence: string, spans: Array<{ at: number; length: number }>, queryTerms: Set<string>) {
  return spans.some(({ at, length }) => {
    const around = `${sentence.slice(Math.max(0, at - nearChars), at)} ${sentence.slice(at + length, at + length + nearChars)}`;
    return tokenize(around).some((term) => queryTerms.has(term));
  });
}

function spansOf(sentence: string, words: string[]): Array<{ at: number; length: number }> {
  return words.flatMap((word) => {
    const at = sentence.indexOf(word);
    return at === -1 ? [] : [{ at, length: word.length }];
  });
}

/** Where the sentence holds what a question of this kind asks for, if anywhere. */
function evidenceOf(
  kind: QuestionKind,
  sentence: string,
  names: string[],
  queryTerms: Set<string>,
): 'near' | 'present' | undefined {
  let spans: Array<{ at: number; length: number }>;
  if (kind === 'definition') {
    const subject = definingOpening.exec(sentence)?.[1];
    return subject && tokenize(subject).some((term) => queryTerms.has(term)) ? 'near' : undefined;
  }
  if (kind === 'list') return enumeration.test(sentence) ? 'near' : undefined;
  if (kind === 'time') {
    spans = [...sentence.matchAll(yearOrDate)].map((match) => ({ at: match.index, length: match[0].length }));
  } else if (kind === 'amount') {
    const figures = extractFigures(sentence).filter((figure) => !isYear(figure.value));
    spans = spansOf(
      sentence,
      figures.map((figure) => figure.text),
    );
    if (figures.length > 0 && spans.length === 0) return 'present';
  } else {
    // A name far from the question's words is often someone else's, so only a near one counts.
    return isNear(sentence, spansOf(sentence, names), queryTerms) ? 'near' : undefined;
  }
  if (spans.length === 0) return undefined;
  return isNear(sentence, spans, queryTerms) ? 'near' : 'present';
}

/** Groups glossary expansions by the entry they came from, so one entry counts as one meaning. */
function createEntryLookup(glossary: GlossaryEntry[]): (term: string) => number {
  const entryOf = new Map<string, number>();
  glossary.forEach(({ terms }, index) => {
    for (const term of terms) if (!entryOf.has(term.toLowerCase())) entryOf.set(term.toLowerCase(), index);
  });
  return (term) => entryOf.get(term.toLowerCase()) ?? -1;
}

function groupBy(terms: string[], keyOf: (term: string) => number): string[][] {
  const groups = new Map<number, string[]>();
  for (const term of terms) {
    const key = keyOf(term);
    groups.set(key, [...(groups.get(key) ?? []), term]);
  }
  return [...groups.values()];
}

/** One meaning the question adds through a glossary entry or a paraphrase: its alternatives and their weight. */
interface Meaning {
  alternatives: string[][];
  weight: number;
  /** A name (ByteDance for 字节跳动), which the sentence should be about, not a common word. */
  isName: boolean;
}

/**
 * What the ranker needs to know about the whole knowledge, counted once per version: over every sentence of
 * every passage (`splitSentences`), how many hold each `tokenize` term, and which words the text writes with
 * a lowercase first letter.
 */
export interface SentenceStatistics {
  readonly sentenceCount: number;
  /** How many sentences hold `term`; 0 for a term the knowledge lacks. */
  documentFrequency(term: string): number;
  /** True when the knowledge writes `word` exactly so, as a word starting with a lowercase letter. */
  writesInLowercase(word: string): boolean;
}

/** The counts `SentenceStatistics` answers from, as plain collections. */
interface SentenceCounts {
  sentenceCount: number;
  documentFrequencies: Map<string, number>;
  lowercaseWords: Set<string>;
}

/**
 * Tokenizes every sentence of `passages`: the slow part of a ranker (seconds for 100,000 passages), which a
 * reload does on the knowledge worker (`src/search/sentence-statistics.ts`).
 */
export function countSentenceTerms(passages: readonly Passage[]): SentenceCounts {
  const documentFrequencies = new Map<string, number>();
  const lowercaseWords = new Set<string>();
  let sentenceCount = 0;
  for (const { text } of passages) {
    for (const sentence of splitSentences(text)) {
      sentenceCount++;
      for (const term of new Set(tokenize(sentence))) {
        documentFrequencies.set(term, (documentFrequencies.get(term) ?? 0) + 1);
      }
    }
    for (const [word] of text.matchAll(/\b\p{Ll}[\p{L}'’]*/gu)) lowercaseWords.add(word);
  }
  return { sentenceCount, documentFrequencies, lowercaseWords };
}

/** Statistics answered from counts held in this thread's heap. */
function statisticsFromCounts({
  sentenceCount,
  documentFrequencies,
  lowercaseWords,
}: SentenceCounts): SentenceStatistics {
  return {
    sentenceCount,
    documentFrequency: (term) => documentFrequencies.get(term) ?? 0,
    writesInLowercase: (word) => lowercaseWords.has(word),
  };
}

/**
 * Creates the ranker offline answers quote with, built once per knowledge version. A sentence scores the
 * inverse document frequency (over every sentence of the knowledge) of each question term it holds; each
 * meaning a glossary entry or a paraphrase (src/core/paraphrases.ts) adds counts once, by its best-held
 * alternative, so Chinese questions reach English sentences and "started" reaches "founded"; more when it
 * holds what the question asks for ("who" → a person's name, "when"/哪一年 → a year or date, "how much"/多少 →
 * an amount, "who is X?" → a sentence saying what X is), most when that stands next to the question's words;
 * and a little for its passage's retrieval score. Ties keep retrieval order, then sentence order.
 *
 * `statistics` must be those of `knowledge.passages`; without them they are counted here, which takes
 * seconds on a large knowledge. Given them, building the ranker is immediate and each question costs only
 * the sentences of the passages it is given.
 */
export function createSentenceRanker(
  knowledge: KnowledgeBase,
  statistics: SentenceStatistics = statisticsFromCounts(countSentenceTerms(knowledge.passages)),
): SentenceRanker {
  const { sentenceCount } = statistics;
  const idf = (term: string) => {
    const df = statistics.documentFrequency(term);
    return Math.log(1 + (sentenceCount - df + 0.5) / (df + 0.5));
  };
  const expand = createGlossaryMatcher(knowledge.glossary);
  const entryOf = createEntryLookup(knowledge.glossary);
  const findNames = createNameFinder(statistics);

  return (question, passages) => {
    const kinds = kindsOf(question, findNames(question));
    const cues = new Set([...kinds].flatMap((kind) => [...(cueWords[kind] ?? [])]));
    const own = new Set(tokenize(question).filter((term) => !cues.has(term)));
    const glossaryWeight = containsCjk(question)
      ? expansionWeight.crossLanguage
      : expansionWeight.sameLanguage;
    const meanings: Meaning[] = [
      ...paraphraseGroupsOf(question).map((group) => ({
        alternatives: alternativesOf(group, own),
        weight: paraphraseWeight,
        isName: false,
      })),
      ...groupBy(expand(question), entryOf).map((group) => ({
        alternatives: alternativesOf(group, own),
        weight: glossaryWeight,
        isName: group.some((term) => /\p{Lu}/u.test(term)),
      })),
    ].filter(({ alternatives }) => alternatives.length > 0);
    const namedTerms = new Set(
      tokenize(
        [...question.matchAll(/[\p{L}\p{N}.]*\p{Lu}[\p{L}\p{N}.]*/gu)].map(([word]) => word).join(' '),
      ),
    );
    const queryTerms = new Set([...own, ...meanings.flatMap(({ alternatives }) => alternatives.flat())]);
    const best = passages[0]?.score || 1;
    const ranked: ScoredSentence[] = [];
    passages.forEach(({ passage, score: passageScore }, passageIndex) => {
      let previous = new Set<string>();
      for (const raw of splitSentences(passage.text)) {
        const sentence = raw.trim();
        if (!sentence) continue;
        const ownTerms = new Set(tokenize(sentence));
        // "One of them is a … fund of 60 billion yuan": what "them" stands for is in the sentence before.
        const terms = anaphoricOpening.test(sentence) ? new Set([...ownTerms, ...previous]) : ownTerms;
        previous = ownTerms;
        let score = (passageWeight * passageScore) / best;
        for (const term of terms) {
          if (own.has(term)) score += idf(term) + (namedTerms.has(term) ? nameBonus : 0);
        }
        // "artificial intelligence" is one expansion of 人工智能, and "LLM" another: one meaning, not three.
        for (const { alternatives, weight, isName } of meanings) {
          const held = alternatives.map(
            (alternative) =>
              alternative.filter((term) => terms.has(term)).reduce((sum, term) => sum + idf(term), 0) /
              alternative.length,
          );
          score += weight * Math.max(...held) + (isName && Math.max(...held) > 0 ? nameBonus : 0);
        }
        for (const kind of kinds) {
          const names = kind === 'person' ? findNames(sentence) : [];
          const evidence = evidenceOf(kind, sentence, names, queryTerms);
          if (evidence) score += kindBonus[evidence];
        }
        ranked.push({ passageIndex, sentence, score });
      }
    });
    // Array.prototype.sort is stable: equal scores keep retrieval order, then sentence order.
    return ranked.sort((a, b) => b.score - a.score);
  };
}
