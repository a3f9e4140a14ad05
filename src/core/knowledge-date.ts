import { catalogFor } from './catalog/catalog.ts';
import type { KnowledgeBase } from './knowledge.ts';
import type { ReplyLanguage } from './question.ts';

/** When the knowledge was written and which years it talks about, for questions about later events. */
export interface KnowledgeTimeline {
  /** The latest front-matter `date` of any file (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`); undefined when none has one. */
  date?: string;
  /** Every year (1900–2099) some passage mentions, such as 2030 in a goal "by 2030". */
  years: Set<number>;
}

const yearPattern = /(?<!\d)(19|20)\d{2}(?!\d)/g;

function yearsIn(text: string): number[] {
  return [...text.matchAll(yearPattern)].map((match) => Number(match[0]));
}

/** The timeline of a knowledge version; built once per version. */
export function knowledgeTimeline(knowledge: KnowledgeBase): KnowledgeTimeline {
  const dates = knowledge.files.flatMap((file) => (file.date ? [file.date] : [])).sort();
  const years = new Set(knowledge.passages.flatMap((passage) => yearsIn(passage.text)));
  const date = dates.at(-1);
  return date ? { date, years } : { years };
}

/**
 * True when the question names a year after the knowledge's date that no passage mentions ("What happened
 * in 2027?", "2026年的最新进展"): the knowledge cannot know about it. "By 2030" stays answerable when a
 * passage talks about 2030.
 */
export function asksAfterKnowledge(question: string, timeline: KnowledgeTimeline): boolean {
  const knowledgeYear = Number(timeline.date?.slice(0, 4));
  if (!Number.isFinite(knowledgeYear)) return false;
  return yearsIn(question).some((year) => year > knowledgeYear && !timeline.years.has(year));
}

const nowWords =
  /\b(now|nowadays|today|currently|current|latest|newest|recent|recently|this year|these days|still)\b|现在|目前|当前|如今|最新|最近|今年|今天|还在|仍然/i;

/** True when the question asks about the present ("latest", "currently", "最新", "目前"). */
export function asksAboutNow(question: string): boolean {
  return nowWords.test(question);
}

/** `2025-02` → "February 2025" / "2025年2月"; a date that isn't `YYYY[-MM[-DD]]` is shown as written. */
export function formatKnowledgeDate(date: string, language: ReplyLanguage): string {
  const match = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(date);
  if (!match) return date;
  const [, year, month, day] = match;
  return catalogFor(language).answers.date(
    year as string,
    month ? Number(month) : undefined,
    day ? Number(day) : undefined,
  );
}

/** The sentence added to a "not covered" reply about a later time: how far the knowledge runs. */
export function knowledgeDateNote(date: string, language: ReplyLanguage): string {
  return catalogFor(language).answers.knowledgeRunsTo(formatKnowledgeDate(date, language));
}
