import { monthNames } from './month-names.ts';
/** A figure found in text: the words as written and the numeric value they stand for. */
export interface Figure {
  text: string;
  value: number;
}

const englishUnits: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};

const englishScales: Record<string, number> = {
  hundred: 100,
  thousand: 1e3,
  million: 1e6,
  billion: 1e9,
  trillion: 1e12,
};

/** Scale words and abbreviations that may follow a written number: "60 billion", "60bn", "8.2 bn", "5m". */
const scaleSuffixes: Record<string, number> = {
  ...englishScales,
  k: 1e3,
  m: 1e6,
  mn: 1e6,
  b: 1e9,
  bn: 1e9,
  tn: 1e12,
};

const chineseDigits: Record<string, number> = {
  零: 0,
  〇: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};

const chineseSmallUnits: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };
const chineseScales: Record<string, number> = { ...chineseSmallUnits, 万: 1e4, 亿: 1e8 };

/** Classifiers and units after which a single Chinese numeral is a count, not part of a word (六小虎, 一些). */
const chineseClassifiers = '年月日号天周个家名位倍岁元块次款项条人座台';

const englishWord = `(?:${[...Object.keys(englishUnits), ...Object.keys(englishScales)].join('|')})`;
const figurePattern = new RegExp(
  [
    // 百分之五十, 百分之12.5
    '(?<percentPrefix>百分之(?<percentBody>[零〇一二两三四五六七八九十百千万亿]+|\\d+(?:\\.\\d+)?))',
    // US$8.2bn, 60 billion, 9,600, 600亿, 1.5万亿, 2030年, 20%, 1990s; not names: R1, GPT-4, 01.ai
    '(?<digits>(?:US\\$|S\\$|HK\\$|RMB\\s?|\\$|¥|€|£)?(?<![\\p{Script=Latin}\\p{N}.])\\d+(?:,\\d{3})*(?:\\.\\d+)?(?:\\s?-?\\s?(?<scale>thousand|million|billion|trillion|bn|mn|tn|k|m|b)(?![\\p{L}\\p{N}])|(?<cjkScale>万亿|千亿|百亿|十亿|亿|万|千|百))?(?<suffix>st|nd|rd|th|s)?(?:\\s?(?:%|per\\s?cent(?![\\p{L}])))?(?![\\p{Script=Latin}\\p{N}]|\\.\\p{L}))',
    // sixty billion, twenty-three, one hundred
    `(?<words>(?<![\\p{L}-])${englishWord}(?:[\\s-]+${englishWord})*(?![\\p{L}]))`,
    // 六百亿, 二〇三〇, 两个 (single numerals only before a classifier)
    `(?<chinese>[零〇一二两三四五六七八九十百千万亿]{2,}|[二两三四五六七八九十](?=[${chineseClassifiers}]))`,
    // February 4, July 2024 ("May" only before a number, it is more often the verb)
    `(?<month>\\b(?:${monthNames.filter((m) => m !== 'May').join('|')})\\b|\\bMay(?=\\s+\\d))`,
  ].join('|'),
  'giu',
);

function parseEnglishWords(words: string): number | undefined {
  let total = 0;
  let current = 0;
  for (const word of words.toLowerCase().split(/[\s-]+/)) {
    const unit = englishUnits[word];
    if (unit !== undefined) {
      current += unit;
      continue;
    }
    const scale = englishScales[word];
    if (scale === undefined) return undefined;
    if (scale === 100) current = (current || 1) * 100;
    else {
      total += (current || 1) * scale;
      current = 0;
    }
  }
  return total + current;
}

/** Parses Chinese numerals with units (六百亿, 一亿五千万, 二十) or digit by digit (二〇三〇). */
export function parseChineseNumber(text: string): number | undefined {
  const chars = [...text];
  if (chars.every((char) => chineseDigits[char] !== undefined)) {
    return Number(chars.map((char) => chineseDigits[char]).join(''));
  }
  let total = 0;
  let section = 0;
  let digit = 0;
  for (const char of chars) {
    const value = chineseDigits[char];
    if (value !== undefined) {
      digit = value;
      continue;
    }
    const small = chineseSmallUnits[char];
    if (small !== undefined) {
      section += (digit || 1) * small;
      digit = 0;
      continue;
    }
    // 亿 multiplies everything before it (一万亿 = 1e12); 万 only its own section (一亿五千万 = 1.5e8).
    if (char === '亿') total = (total + section + digit) * 1e8;
    else if (char === '万') total += (section + digit) * 1e4;
    else return undefined;
    section = 0;
    digit = 0;
  }
  return total + section + digit;
}

function parseChineseScale(scale: string): number {
  return [...scale].reduce((product, char) => product * (chineseScales[char] ?? 1), 1);
}

function digitsValue(groups: Record<string, string | undefined>, text: string): number {
  const number = Number(/\d+(?:,\d{3})*(?:\.\d+)?/.exec(text)?.[0].replace(/,/g, ''));
  const scale = groups.scale ? (scaleSuffixes[groups.scale.toLowerCase()] ?? 1) : 1;
  const cjkScale = groups.cjkScale ? parseChineseScale(groups.cjkScale) : 1;
  return number * scale * cjkScale;
}

/** Citation markers and list numbers are structure, not figures. */
function stripStructure(text: string): string {
  return text
    .replace(/[[【]\s*\d{1,2}(?:\s*[,，、]\s*\d{1,2})*\s*[\]】]/g, ' ')
    .replace(/^(\s*)\d{1,2}[.)](?=\s)/gm, '$1 ');
}

/**
 * Finds the figures in English or Chinese text and gives each its numeric value, so that "60 billion",
 * "60bn", "600亿" and "六百亿" all read as 6e10, "2030年" as 2030, "20%" as 20 and "February" as 2.
 * Never counted: citation markers (`[1]`), list numbers, numbers inside names (R1, GPT-4, 01.ai), a lone
 * "one", and single Chinese numerals inside words (六小虎, 一些).
 */
export function extractFigures(text: string): Figure[] {
  const figures: Figure[] = [];
  const plain = stripStructure(text.normalize('NFKC'));
  for (const match of plain.matchAll(figurePattern)) {
    const groups = match.groups ?? {};
    const written = match[0].trim();
    let value: number | undefined;
    if (groups.percentPrefix) {
      const body = groups.percentBody ?? '';
      value = /\d/.test(body) ? Number(body) : parseChineseNumber(body);
    } else if (groups.digits) {
      // GPT-4, COVID-19: a number after a capitalised word and a hyphen is part of a name (the pattern
      // is case-insensitive, so this is checked here); "top-20" is a figure.
      if (/\p{Lu}\p{L}*-$/u.test(plain.slice(0, match.index))) continue;
      value = digitsValue(groups, written);
    } else if (groups.words) {
      if (/^(?:one|zero)$/i.test(written)) continue;
      value = parseEnglishWords(written);
    } else if (groups.chinese) {
      value = parseChineseNumber(written);
      if (value === 0 || value === 1) continue;
    } else if (groups.month) {
      // Lower-case "march" is the verb; the pattern is case-insensitive for the rest.
      if (!/^\p{Lu}/u.test(written)) continue;
      value = monthNames.findIndex((month) => month.toLowerCase() === written.toLowerCase()) + 1;
    }
    // 8.2 × 1e9 is 8199999999.999999 in floating point; twelve digits are more than any text states.
    if (value !== undefined && Number.isFinite(value))
      figures.push({ text: written, value: Number(value.toPrecision(12)) });
  }
  return figures;
}

function sameValue(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * The figures an answer states that none of the sources holds, compared by value in any form, each once
 * as written in the answer. A non-empty result means the answer invented or mis-stated a number.
 */
export function findUngroundedFigures(answer: string, sources: readonly string[]): string[] {
  const grounded = sources.flatMap((source) => extractFigures(source).map((figure) => figure.value));
  const ungrounded: string[] = [];
  for (const figure of extractFigures(answer)) {
    if (grounded.some((value) => sameValue(value, figure.value))) continue;
    if (!ungrounded.includes(figure.text)) ungrounded.push(figure.text);
  }
  return ungrounded;
}
