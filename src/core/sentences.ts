const abbreviations = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'st',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'no',
  'jan',
  'feb',
  'co',
  'inc',
  'ltd',
]);

/**
 * Splits text into sentences without breaking at initials ("J.S. Tan"), abbreviations ("Mr. Liang") or
 * decimals ("3.5"). Joining the result gives back the input exactly, so nothing is lost when passages are
 * cut or quoted.
 */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  for (const match of text.matchAll(/[。！？]+["'”’)）]*\s*|[.!?]+["'”’)]*(?:\s+|$)/gu)) {
    const end = match.index + match[0].length;
    const isCjk = /^[。！？]/u.test(match[0]);
    if (!isCjk && end < text.length) {
      const before = text.slice(start, match.index);
      const lastWord = /([\p{L}.]+)$/u.exec(before)?.[1] ?? '';
      const next = text[end] ?? '';
      const isInitial = /^(?:\p{Lu}\.)*\p{Lu}$/u.test(lastWord);
      if (isInitial || abbreviations.has(lastWord.toLowerCase()) || !/[\p{Lu}\p{N}"“'([]/u.test(next))
        continue;
    }
    sentences.push(text.slice(start, end));
    start = end;
  }
  if (start < text.length) sentences.push(text.slice(start));
  return sentences;
}
