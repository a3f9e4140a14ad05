import { extractFigures } from '../core/figures.ts';
import type { GlossaryEntry } from '../core/glossary.ts';
import { monthNames } from '../core/month-names.ts';
import { containsCjk, tokenize } from '../core/tokenize.ts';

/** A name or figure in English text that no glossary row renders in Chinese, where it first occurs. */
export interface GlossaryGap {
  kind: 'name' | 'figure';
  /** As written in the text, e.g. `Neil Zhu` or `S$11 billion`. */
  term: string;
  line: number;
}

/** A paragraph of a knowledge file with the line it starts on. */
export interface NumberedParagraph {
  text: string;
  line: number;
}

// Words that open sentences ("According to …", "Beyond funding …") are capitalised without being names.
const sentenceOpeners = new Set(
  `a an the in on at as by for from with without but and or if when while according during after before since
  some many each every this that these those it its he she they we i his her their our beyond despite however
  although though because so yet still also even only both either neither not no all most more other such what
  who which where why how there here one two three four five six seven eight nine ten`.split(/\s+/),
);
// Nationalities and regions read as adjectives: "Chinese firms" names no one.
// …and so are countries everyone can name in either language.
const demonyms = new Set(
  `chinese american british european western eastern asian japanese korean singaporean english french german
  indian russian taiwanese african china japan korea singapore india russia europe asia america britain taiwan
  france germany`.split(/\s+/),
);
const months = new Set(
  [...monthNames, 'Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'].map((m) =>
    m.toLowerCase(),
  ),
);
const connectors = new Set(['of', 'and', 'for', 'the', 'de', 'van', 'von', '&']);

/**
 * A word Chinese text writes as it is, so a Chinese question finds it without a rendering: acronyms (MIT, LLMs),
 * names with digits or inner capitals (DeepSeek-R1, ChatGPT, 01.ai).
 */
function writtenAsIs(word: string): boolean {
  return /\d/.test(word) || /^\p{Lu}{2,6}s?$/u.test(word) || /^\p{L}+\p{Lu}/u.test(word);
}

/** Runs of capitalised words ("Professor James Pang", "Centre for Safe AGI", "J.S. Tan"), possessives dropped. */
function capitalisedRuns(sentence: string): Array<{ words: string[]; atStart: boolean }> {
  const runs: Array<{ words: string[]; atStart: boolean }> = [];
  let current: string[] = [];
  let atStart = true;
  let runAtStart = true;
  const flush = () => {
    while (current.length && connectors.has((current.at(-1) as string).toLowerCase())) current.pop();
    if (current.length) runs.push({ words: current, atStart: runAtStart });
    current = [];
  };
  for (const token of sentence.split(/\s+/).filter(Boolean)) {
    // A quotation starts a sentence of its own; a bracket starts a name of its own.
    const opensQuote = /^["“‘]/.test(token);
    if (/^[("“‘'[]/.test(token)) flush();
    const initials = /^(?:\p{Lu}\.)+$/u.test(token);
    // "Beijing-based" names Beijing.
    const word = initials
      ? token
      : token
          .replace(/^[("“‘'[]+/, '')
          .replace(/(?:['’]s)?[)"”’'\],.;:!?]*$/u, '')
          .replace(/-\p{Ll}+$/u, '');
    if (/^\p{Lu}/u.test(word)) {
      if (!current.length) runAtStart = atStart || opensQuote;
      current.push(word);
    } else if (current.length && connectors.has(word.toLowerCase())) {
      current.push(word);
    } else {
      flush();
    }
    atStart = false;
    if (!initials && /[,.;:!?)"”\]]$/.test(token.replace(/['’]s$/, ''))) flush();
  }
  flush();
  return runs;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Figures whose Chinese form is written differently (万/亿, no thousands separator, 美元 for US$). */
function needsRendering(written: string): boolean {
  return /thousand|million|billion|trillion|\d\s?(?:bn|mn|k)\b|\d,\d{3}|[$¥€£]/i.test(written);
}

/**
 * The names (people, organisations, products) and figures (amounts with a scale, a currency or a thousands
 * separator) in English paragraphs that no glossary row gives a Chinese rendering for: without one, a question in
 * Chinese cannot reach the passages that hold them. Each is reported once, where it first occurs.
 *
 * A name counts as rendered when glossary terms cover all its words that are names (so "Professor James Pang" is
 * covered by rows for "Professor" and "James Pang"); a figure when a glossary term states the same value. Words
 * Chinese text writes as they are (acronyms, ChatGPT, DeepSeek-R1), month names, nationalities and sentence openers
 * need no rendering, nor does a sentence's first word unless the knowledge capitalises it inside sentences too and
 * never writes it in lower case (see `wordUsesOf`).
 */
export function findGlossaryGaps(
  paragraphs: NumberedParagraph[],
  glossary: GlossaryEntry[],
  uses: WordUses,
): GlossaryGap[] {
  // "Hong Kong University of Science and Technology (Guangzhou)" also covers its two parts written apart.
  const latinTerms = glossary
    .flatMap((entry) => entry.terms.filter((term) => !containsCjk(term)))
    .flatMap((term) => [term, ...term.split(/\s*[()]\s*/)])
    .map((term) => term.trim())
    .filter(Boolean);
  const termPatterns = latinTerms
    .sort((a, b) => b.length - a.length)
    .map((term) => new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(term)}(?![\\p{L}\\p{N}])`, 'giu'));
  const renderedValues = glossary.flatMap((entry) =>
    entry.terms.filter(containsCjk).flatMap((term) => extractFigures(term).map((figure) => figure.value)),
  );
  const gaps = new Map<string, GlossaryGap>();
  const note = (gap: GlossaryGap) => {
    if (!gaps.has(gap.term.toLowerCase())) gaps.set(gap.term.toLowerCase(), gap);
  };
  for (const { text, line } of paragraphs) {
    if (mostlyChinese(text)) continue;
    for (const figure of extractFigures(text)) {
      // "per million tokens" is a unit, not a figure.
      if (!needsRendering(figure.text) || /^(?:thousand|million|billion|trillion)$/i.test(figure.text))
        continue;
      const rendered = renderedValues.some((value) => Math.abs(value - figure.value) <= 1e-9 * figure.value);
      if (!rendered) note({ kind: 'figure', term: figure.text, line });
    }
    // Glossary terms are masked first, so what is left of "Rui Ma of Tech Buzz China" is "Tech Buzz China".
    let masked = text;
    for (const pattern of termPatterns) masked = masked.replace(pattern, ' \u0000 ');
    for (const sentence of masked.split(/(?<=[^\p{Lu}][.!?])\s+(?=\p{Lu})/u)) {
      for (const run of capitalisedRuns(sentence)) {
        const needsName = run.words.some((word, index) => {
          const lower = word.toLowerCase();
          const singular = lower.replace(/s$/, '');
          if (months.has(singular) || demonyms.has(lower) || connectors.has(lower) || writtenAsIs(word))
            return false;
          if (!(run.atStart && index === 0)) return true;
          // A sentence's first word is a name only if the text also capitalises it inside sentences.
          const stem = stemOf(lower);
          return !sentenceOpeners.has(lower) && !uses.lowerCase.has(stem) && uses.capitalisedInside.has(stem);
        });
        if (needsName) note({ kind: 'name', term: run.words.join(' '), line });
      }
    }
  }
  return [...gaps.values()];
}

/** True when a text has more CJK characters than Latin letters: Chinese text, which needs no rendering. */
export function mostlyChinese(text: string): boolean {
  const cjk =
    text.match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu)?.length ?? 0;
  return cjk > (text.match(/\p{Script=Latin}/gu)?.length ?? 0);
}

function stemOf(word: string): string {
  return tokenize(word)[0] ?? word;
}

/** How a knowledge's words are used: what tells a capitalised sentence opener ("Tables for …") from a name. */
export interface WordUses {
  /** Stems of the words used in lower case, in the text or in the glossary's English terms. */
  lowerCase: Set<string>;
  /** Stems of the capitalised words used inside sentences, where only names are capitalised. */
  capitalisedInside: Set<string>;
}

/** The word uses of texts and the glossary's English terms. */
export function wordUsesOf(texts: string[], glossary: GlossaryEntry[]): WordUses {
  const uses: WordUses = { lowerCase: new Set(), capitalisedInside: new Set() };
  const english = glossary.flatMap((entry) => entry.terms.filter((term) => !containsCjk(term)));
  for (const text of [...texts, ...english]) {
    for (const match of text.matchAll(/(?<![\p{L}])\p{Ll}+(?![\p{L}])/gu))
      uses.lowerCase.add(stemOf(match[0]));
    for (const sentence of text.split(/(?<=[.!?])\s+/)) {
      for (const match of sentence.matchAll(/(?<=[\p{L}\p{N},;:]\s+)\p{Lu}\p{L}*/gu))
        uses.capitalisedInside.add(stemOf(match[0].toLowerCase()));
    }
  }
  return uses;
}
