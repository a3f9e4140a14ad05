import { extractFigures } from './figures.ts';
import { createGlossaryMatcher } from './glossary.ts';
import type { KnowledgeBase } from './knowledge.ts';
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
type QuestionKind = 'person' | 'time' | 'amount';

// "how old", "worth" and 多大 ask for a number as much as "how much" does.
const kindCues: Array<[QuestionKind, RegExp]> = [
  [
    'time',
    /\b(?:when|what year|which year|what date|which date|by (?:what|which) year)\b|哪一?年|什么时候|何时|几月|哪一?天|几号/i,
  ],
  [
    'amount',
    /\bhow (?:much|many|big|large|old|valuable)\b|\bworth\b|\bvaluation\b|多少|多大|多高|几个|几家|几席|几位|规模|估值/i,
  ],
  ['person', /\bwho(?:m|se)?\b|谁|哪位|何人/i],
];

// The weights below were tuned on test/fixtures/qa.jsonl and a scratch set of paraphrases, then measured once on
// test/fixtures/qa-heldout-quotes.jsonl, written before any tuning (see the commit adding it).

/**
 * Glossary expansions stand in for the words of a Chinese question, but say less than the user's own words;
 * for an English question they are same-language synonyms ("founded" → "established"), weaker still.
 */
const expansionWeight = { crossLanguage: 0.8, sameLanguage: 0.25 };
/** A sentence with what the question asks for (a name, a year, an amount) beats one that only repeats it. */
const kindBonus = 2;
/** Retrieval already judged the whole passage; its share of the best score breaks ties between sentences. */
const passageWeight = 1;

const yearOrDate =
  /\b(?:1[89]|20)\d{2}\b|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2}\b|\d{1,4}\s*[年月日]/u;

function isYear(value: number): boolean {
  return Number.isInteger(value) && value >= 1800 && value <= 2100;
}

/**
 * Words that begin with a capital wherever the knowledge uses them, in runs of two or more ("Liang Wenfeng",
 * "J.S. Tan"): names of people or places. "New Year" is not one, since the knowledge also writes "year".
 */
function createNameFinder(knowledge: KnowledgeBase): (sentence: string) => string[] {
  const lowercase = new Set<string>();
  for (const { text } of knowledge.passages) {
    for (const [word] of text.matchAll(/\b\p{Ll}[\p{L}'’]*/gu)) lowercase.add(word);
  }
  const isNameWord = (word: string) =>
    /^(?:\p{Lu}\.)+$/u.test(word) || (/^\p{Lu}\p{Ll}+$/u.test(word) && !lowercase.has(word.toLowerCase()));
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
  if (namesInQuestion.length > 0) kinds.delete('person');
  return kinds;
}

/** Each glossary expansion as the terms it adds, without repeats (founder/founders stem alike). */
function expansionPhrases(expansions: string[], own: Set<string>): string[][] {
  const seen = new Set<string>();
  const phrases: string[][] = [];
  for (const expansion of expansions) {
    const terms = [...new Set(tokenize(expansion))].filter((term) => !own.has(term));
    const key = terms.join(' ');
    if (terms.length === 0 || seen.has(key)) continue;
    seen.add(key);
    phrases.push(terms);
  }
  return phrases;
}

/** How far around a name (in characters) a question term must be for the name to answer the question. */
const nameWindowChars = 30;

/** True when a name stands next to what the question asks about: "founder Liang Wenfeng", "J.S. Tan wrote". */
function namesNear(sentence: string, names: string[], queryTerms: Set<string>): boolean {
  return names.some((name) => {
    const at = sentence.indexOf(name);
    if (at === -1) return false;
    const around = `${sentence.slice(Math.max(0, at - nameWindowChars), at)} ${sentence.slice(at + name.length, at + name.length + nameWindowChars)}`;
    return tokenize(around).some((term) => queryTerms.has(term));
  });
}

function hasKind(kind: QuestionKind, sentence: string, names: string[], queryTerms: Set<string>): boolean {
  if (kind === 'time') return yearOrDate.test(sentence);
  if (kind === 'amount') return extractFigures(sentence).some((figure) => !isYear(figure.value));
  return namesNear(sentence, names, queryTerms);
}

/**
 * Creates the ranker offline answers quote with, built once per knowledge version. A sentence scores the
 * inverse document frequency (over every sentence of the knowledge) of each question term it holds, glossary
 * expansions included so Chinese questions reach English sentences; more when it holds what the question
 * asks for ("who" → a person's name, "when"/哪一年 → a year or date, "how much"/多少 → an amount); and a
 * little for its passage's retrieval score. Ties keep retrieval order, then sentence order.
 */
export function createSentenceRanker(knowledge: KnowledgeBase): SentenceRanker {
  const documentFrequency = new Map<string, number>();
  let sentenceCount = 0;
  for (const { text } of knowledge.passages) {
    for (const sentence of splitSentences(text)) {
      sentenceCount++;
      for (const term of new Set(tokenize(sentence))) {
        documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
      }
    }
  }
  const idf = (term: string) => {
    const df = documentFrequency.get(term) ?? 0;
    return Math.log(1 + (sentenceCount - df + 0.5) / (df + 0.5));
  };
  const expand = createGlossaryMatcher(knowledge.glossary);
  const findNames = createNameFinder(knowledge);

  return (question, passages) => {
    const own = new Set(tokenize(question));
    const phrases = expansionPhrases(expand(question), own);
    const queryTerms = new Set([...own, ...phrases.flat()]);
    const kinds = kindsOf(question, findNames(question));
    const weight = containsCjk(question) ? expansionWeight.crossLanguage : expansionWeight.sameLanguage;
    const best = passages[0]?.score || 1;
    const ranked: ScoredSentence[] = [];
    passages.forEach(({ passage, score: passageScore }, passageIndex) => {
      for (const raw of splitSentences(passage.text)) {
        const sentence = raw.trim();
        if (!sentence) continue;
        const terms = new Set(tokenize(sentence));
        let score = (passageWeight * passageScore) / best;
        for (const term of terms) if (own.has(term)) score += idf(term);
        // "artificial intelligence" is one expansion of 人工智能, not two pieces of evidence.
        for (const phrase of phrases) {
          const held = phrase.filter((term) => terms.has(term));
          score += (weight * held.reduce((sum, term) => sum + idf(term), 0)) / phrase.length;
        }
        const names = kinds.has('person') ? findNames(sentence) : [];
        for (const kind of kinds) if (hasKind(kind, sentence, names, queryTerms)) score += kindBonus;
        ranked.push({ passageIndex, sentence, score });
      }
    });
    // Array.prototype.sort is stable: equal scores keep retrieval order, then sentence order.
    return ranked.sort((a, b) => b.score - a.score);
  };
}
