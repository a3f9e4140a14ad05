import { stemmer } from 'stemmer';

// Function words carry no topic. Question words are included so "who founded X" matches on "X" and "found".
const englishStopWords = new Set(
  `a about above after again against all am an and any are as at be because been before being below between both
  but by can could did do does doing down during each few for from further had has have having he her here hers
  herself him himself his how i if in into is it its itself just let me more most my myself no nor not of off on
  once only or other our ours ourselves out over own same she should so some such than that the their theirs them
  themselves then there these they this those through to too under until up very was we were what when where
  which while who whom why will with would you your yours yourself yourselves tell know please much many
  mr mrs ms dr`.split(/\s+/),
);

// Single CJK characters that are grammar, not topic; bigrams containing one are dropped.
const cjkFunctionChars = new Set([
  ...'的了是在吗呢吧啊么和与及或也都就还又而被把给让对从向到为着过之其这那哪些个什谁几多少怎样如何请问我你他她它们有没',
]);

// Porter stems "founded" and the verb "found" (from "find") alike, which sent "Who founded DeepSeek?" to a
// study that "found" something. The founding family gets one term; bare "found" is ambiguous and dropped.
const wordOverrides = new Map<string, string | null>([
  ['found', null],
  ['founded', 'founder'],
  ['founding', 'founder'],
  ['founders', 'founder'],
  ['cofounder', 'founder'],
]);

const cjkRun = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu;
const segmenter = new Intl.Segmenter('zh', { granularity: 'word' });

/** True when the text contains Chinese, Japanese or Korean characters. */
export function containsCjk(text: string): boolean {
  return /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(text);
}

function normalize(text: string): string {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      // 9,600 and 9600 are the same number; 2000–2023 is two numbers.
      .replace(/(\d),(?=\d{3}\b)/g, '$1')
      .replace(/[’‘]/g, "'")
      // Initials are one word: "J.S. Tan" is searchable by "js", "U.S." reads as "us".
      .replace(/(?<![\p{L}\p{N}.])(?:\p{L}\.){2,}/gu, (initials) => initials.replaceAll('.', ''))
  );
}

function tokenizeLatin(text: string, out: string[]): void {
  for (const match of text.matchAll(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu)) {
    const word = match[0].replace(/'s$/, '').replace(/'/g, '');
    if (englishStopWords.has(word)) continue;
    const override = wordOverrides.get(word);
    if (override !== undefined) {
      if (override) out.push(override);
      continue;
    }
    if (/^\p{N}+$/u.test(word)) {
      out.push(word);
    } else if (word.length > 1 || /\p{N}/u.test(word)) {
      out.push(/\p{N}/u.test(word) ? word : stemmer(word));
    }
  }
}

function tokenizeCjk(run: string, out: string[]): void {
  for (const { segment, isWordLike } of segmenter.segment(run)) {
    if (isWordLike && segment.length > 1 && ![...segment].every((c) => cjkFunctionChars.has(c)))
      out.push(segment);
  }
  // The segmenter splits some words badly (创始人 → 创始 + 人); overlapping bigrams recover them.
  const chars = [...run];
  if (chars.length === 1 && !cjkFunctionChars.has(run)) out.push(run);
  for (let i = 0; i + 1 < chars.length; i++) {
    const first = chars[i] as string;
    const second = chars[i + 1] as string;
    if (cjkFunctionChars.has(first) || cjkFunctionChars.has(second)) continue;
    out.push(first + second);
  }
}

/**
 * Splits text into search terms for English and CJK alike: English words are lower-cased, stop words
 * dropped and Porter-stemmed; CJK runs give segmenter words plus character bigrams. The same function
 * indexes passages and queries, so both sides always agree.
 */
export function tokenize(text: string): string[] {
  const normalized = normalize(text);
  const out: string[] = [];
  let last = 0;
  for (const match of normalized.matchAll(cjkRun)) {
    tokenizeLatin(normalized.slice(last, match.index), out);
    tokenizeCjk(match[0], out);
    last = match.index + match[0].length;
  }
  tokenizeLatin(normalized.slice(last), out);
  return out;
}
