import { InputError } from './errors.ts';
import { containsCjk } from './tokenize.ts';

/** The language an answer's fixed sentences are written in, from the question's script. */
export type ReplyLanguage = 'en' | 'zh';

/** Chinese script anywhere in the question means the user reads Chinese. */
export function detectLanguage(text: string): ReplyLanguage {
  return containsCjk(text) ? 'zh' : 'en';
}

/**
 * The language to reply in: that of the words the user gave (a question answers in its own script), else
 * `fallback`, the user's interface language (a bare `/help` follows the Telegram or Discord locale).
 */
export function languageOf(words: string, fallback: ReplyLanguage): ReplyLanguage {
  return words.trim() ? detectLanguage(words) : fallback;
}

/**
 * The language of a platform locale (Telegram's `language_code`, Discord's `zh-CN`, `zh-TW`, `en-US` …):
 * Poquan speaks Chinese or English.
 */
export function languageOfLocale(locale: string | null | undefined): ReplyLanguage {
  return locale?.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/**
 * Cleans a question (invalid UTF-16, control and zero-width characters, surrounding space) and rejects
 * one that is empty or too long with a message that is safe to show the user as is.
 */
export function cleanQuestion(raw: string, maxChars: number): string {
  const question = raw
    .toWellFormed()
    .replace(/[\u200B-\u200D\u2060\uFEFF]/g, '')
    .replace(/[^\P{Cc}\n\t]/gu, ' ')
    .trim();
  if (!question) throw new InputError('Please ask a question, for example: "Who founded DeepSeek?"');
  const length = [...question].length;
  if (length > maxChars) {
    throw new InputError(
      `Your question is ${length} characters long; the limit is ${maxChars}. Please shorten it.`,
    );
  }
  return question;
}
