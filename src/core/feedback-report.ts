import { InputError } from './errors.ts';
import { type AnswerRecord, dayOf, type FeedbackStore, type VoteRecord } from './feedback.ts';
import { type SpendSummary, summarizeSpend } from './spend.ts';

/** An inclusive range of UTC days, `YYYY-MM-DD`. */
export interface ReportRange {
  from: string;
  to: string;
}

/** A question (normalized) and how often it came up. */
export interface CountedQuestion {
  question: string;
  count: number;
}

/** A passage and how many 👎 votes went to answers citing it; heading and source while it still exists. */
export interface CountedPassage {
  passageId: string;
  count: number;
  heading?: string;
  source?: string;
}

/**
 * What `poquan feedback report` prints: how much was asked, how it was rated, and where the knowledge falls
 * short. Answers count by delivery day, votes by the day they were first cast (as they stand now).
 */
export interface FeedbackReport {
  from: string;
  to: string;
  answers: number;
  /** Answers that said the knowledge does not cover the question. */
  notCovered: number;
  votes: {
    up: number;
    down: number;
    total: number;
    /** Share of votes that are 👍 (0–1); null without votes. */
    upRatio: number | null;
  };
  /** The most asked questions, most frequent first. */
  topQuestions: CountedQuestion[];
  /** Questions answered "not covered": the knowledge gaps, most frequent first. */
  knowledgeGaps: CountedQuestion[];
  /** Passages most often cited in 👎 answers. */
  downvotedPassages: CountedPassage[];
  /** Tokens, cache hits, cost and the heaviest users (as salted hashes) of the range's answers. */
  spend: SpendSummary;
}

/** How a report is shaped: list lengths, and how to name a passage id for people. */
export interface ReportOptions {
  /** Entries per list (default 10). */
  top?: number;
  describePassage?: (passageId: string) => { heading: string; source: string } | undefined;
}

/** Longest range a report reads, so a typo like `--from 0001-01-01` can't start a million reads. */
const maxRangeDays = 366;
const dayMs = 86_400_000;
const dayPattern = /^\d{4}-\d{2}-\d{2}$/;

function parseDay(value: string, name: string): number {
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (!dayPattern.test(value) || Number.isNaN(ms) || dayOf(ms) !== value) {
    throw new InputError(`--${name} must be a date as YYYY-MM-DD, e.g. 2026-03-01 (got "${value}").`);
  }
  return ms;
}

/**
 * Validates a `--from`/`--to` pair into a range: `to` defaults to today (UTC), `from` to 29 days before `to`.
 * Throws `InputError` for a malformed or impossible date, `from` after `to`, or more than 366 days.
 */
export function parseReportRange(input: { from?: string; to?: string }, now: number): ReportRange {
  const to = input.to === undefined ? parseDay(dayOf(now), 'to') : parseDay(input.to, 'to');
  const from = input.from === undefined ? to - 29 * dayMs : parseDay(input.from, 'from');
  if (from > to) throw new InputError(`--from (${dayOf(from)}) is after --to (${dayOf(to)}).`);
  if ((to - from) / dayMs + 1 > maxRangeDays) {
    throw new InputError(`A report covers at most ${maxRangeDays} days; narrow --from/--to.`);
  }
  return { from: dayOf(from), to: dayOf(to) };
}

/** Every day of a range, in order. */
export function daysOf(range: ReportRange): string[] {
  const days: string[] = [];
  for (let ms = Date.parse(`${range.from}T00:00:00Z`); dayOf(ms) <= range.to; ms += dayMs)
    days.push(dayOf(ms));
  return days;
}

/**
 * The form under which questions are counted together: Unicode-normalized, lower-case, single spaces, no
 * trailing punctuation — so "Who founded DeepSeek?" and "who founded deepseek" are one question.
 */
export function normalizeQuestion(question: string): string {
  return question
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\s?？!！.。]+$/u, '');
}

function topCounts(values: string[], top: number): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0)).slice(0, top);
}

/**
 * Computes the report from records, keeping only those inside `range` (answers by delivery day, votes by
 * first-cast day). Pure, so it is tested with fixed dates; ties sort alphabetically for stable output.
 */
export function summarizeFeedback(
  answers: AnswerRecord[],
  votes: VoteRecord[],
  range: ReportRange,
  options: ReportOptions = {},
): FeedbackReport {
  const top = options.top ?? 10;
  const inRange = (ms: number) => {
    const day = dayOf(ms);
    return day >= range.from && day <= range.to;
  };
  const given = answers.filter((answer) => inRange(answer.deliveredAt));
  const cast = votes.filter((vote) => inRange(vote.createdAt));
  const up = cast.filter((vote) => vote.vote === 'up').length;
  const down = cast.length - up;
  const toQuestions = ([question, count]: [string, number]) => ({ question, count });
  return {
    from: range.from,
    to: range.to,
    answers: given.length,
    notCovered: given.filter((answer) => answer.notCovered).length,
    votes: { up, down, total: cast.length, upRatio: cast.length > 0 ? up / cast.length : null },
    topQuestions: topCounts(
      given.map((answer) => normalizeQuestion(answer.question)),
      top,
    ).map(toQuestions),
    knowledgeGaps: topCounts(
      given.filter((answer) => answer.notCovered).map((answer) => normalizeQuestion(answer.question)),
      top,
    ).map(toQuestions),
    downvotedPassages: topCounts(
      cast.filter((vote) => vote.vote === 'down').flatMap((vote) => [...new Set(vote.passageIds)]),
      top,
    ).map(([passageId, count]) => {
      const passage = options.describePassage?.(passageId);
      return passage
        ? { passageId, count, heading: passage.heading, source: passage.source }
        : { passageId, count };
    }),
    spend: summarizeSpend(given, top),
  };
}

/** Reads a range's answers and votes from the feedback store (one day index at a time) and summarizes them. */
export async function buildFeedbackReport(
  feedback: FeedbackStore,
  range: ReportRange,
  options: ReportOptions = {},
): Promise<FeedbackReport> {
  const answers: AnswerRecord[] = [];
  const votes: VoteRecord[] = [];
  for (const day of daysOf(range)) {
    const [dayAnswers, dayVotes] = await Promise.all([feedback.listAnswers(day), feedback.listVotes(day)]);
    answers.push(...dayAnswers);
    votes.push(...dayVotes);
  }
  return summarizeFeedback(answers, votes, range, options);
}
