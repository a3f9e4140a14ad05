import type { LlmClient } from './llm.ts';
import type { ChatMessage } from './prompt.ts';
import { containsCjk } from './tokenize.ts';

/** A term to render: a name or figure as an English text writes it, with the sentence it occurs in. */
export interface TermToRender {
  term: string;
  kind: 'name' | 'figure';
  context: string;
}

/** A glossary row the model proposed; it is for a person to review, never live by itself. */
export interface SuggestedRow {
  chinese: string;
  english: string;
  note: string;
}

/**
 * The model's instructions for glossary suggestions. The fake model recognises a suggestion request by this exact
 * text, so change both together.
 */
export const glossarySuggestionInstructions =
  'You give the Chinese renderings of names and figures from an English article, for a bilingual glossary. For each numbered term, reply with one line: the number, a vertical bar, the Chinese rendering (several common forms separated by " / "), a vertical bar, and a short note. Use the established Chinese name where one exists (a company\'s own Chinese name, the name Chinese media use). For a person with no known Chinese name, give the usual transliteration and write "transliteration" in the note. For a name Chinese text writes in English, repeat it as written and write "kept as written" in the note. Write figures as Chinese text does, e.g. 600亿元 for 60 billion yuan and 110亿新元 for S$11 billion. Reply with the lines only, e.g.: 1 | 月之暗面 | the company\'s Chinese name';

/** Terms per request: a reply of that many short lines stays well within a small completion budget. */
export const termsPerRequest = 40;
const replyMaxTokens = 2000;

/** The request for one batch of terms: the instructions, then the numbered terms, each with its sentence as data. */
export function buildGlossarySuggestionPrompt(terms: TermToRender[]): ChatMessage[] {
  const lines = terms.map(
    ({ term, kind, context }, index) =>
      `${index + 1}. ${term} (${kind}; in: "${context.replace(/\s+/g, ' ')}")`,
  );
  return [
    { role: 'system', content: glossarySuggestionInstructions },
    { role: 'user', content: `Terms:\n${lines.join('\n')}` },
  ];
}

/**
 * Reads `n | 中文 | note` lines into rows for the numbered terms. A line for an unknown number, or whose rendering
 * is neither Chinese nor the term as written, is dropped: it is not a rendering.
 */
export function parseGlossarySuggestions(reply: string, terms: TermToRender[]): SuggestedRow[] {
  const rows: SuggestedRow[] = [];
  for (const line of reply.split(/\r?\n/)) {
    const match = /^\s*(\d+)[.)]?\s*[|｜]\s*([^|｜]+?)\s*(?:[|｜]\s*(.*?)\s*)?$/.exec(line);
    if (!match) continue;
    const term = terms[Number(match[1]) - 1];
    const chinese = (match[2] as string).replace(/[*`]/g, '').trim();
    if (!term || !(containsCjk(chinese) || chinese === term.term)) continue;
    if (rows.some((row) => row.english === term.term)) continue;
    rows.push({ chinese, english: term.term, note: (match[3] ?? '').replace(/[|｜]/g, '/').trim() });
  }
  return rows;
}

/**
 * Asks the model for Chinese renderings of `terms`, `termsPerRequest` at a time, each request abandoned after
 * `timeoutMs`. Resolves with the rows it could read; throws `LlmError` when a request fails.
 */
export async function suggestGlossaryRows(
  llm: LlmClient,
  terms: TermToRender[],
  timeoutMs: number,
): Promise<SuggestedRow[]> {
  const rows: SuggestedRow[] = [];
  for (let start = 0; start < terms.length; start += termsPerRequest) {
    const batch = terms.slice(start, start + termsPerRequest);
    const { text } = await llm.complete(buildGlossarySuggestionPrompt(batch), {
      maxTokens: replyMaxTokens,
      signal: AbortSignal.timeout(timeoutMs),
    });
    rows.push(...parseGlossarySuggestions(text, batch));
  }
  return rows;
}
