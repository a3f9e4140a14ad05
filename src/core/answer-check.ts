import type { AnswerDone } from './answer-events.ts';
import { citedNumbers } from './citations.ts';
import type { QaCase } from './evaluate.ts';
import { extractFigures, findUngroundedFigures } from './figures.ts';
import type { GlossaryEntry } from './glossary.ts';
import type { KnowledgeBase, Passage } from './knowledge.ts';
import type { ReplyLanguage } from './question.ts';
import { detectLanguage } from './question.ts';
import { containsCjk } from './tokenize.ts';

/** How one written answer held up. Checks that do not apply to the question are `null`. */
export interface AnswerCheckItem {
  q: string;
  lang: ReplyLanguage;
  outOfScope: boolean;
  answer: string;
  answerLanguage: ReplyLanguage;
  /** The reply was the fixed "not covered" one. */
  notCovered: boolean;
  /** In scope: an expected fact (or its glossary or numeric equivalent) is in the answer. */
  factInAnswer: boolean | null;
  /** In scope: the answer's first cited statement already holds the fact. */
  leadHasFact: boolean | null;
  /** In scope: at least one passage the answer cites holds the fact. */
  citedPassageHasFact: boolean | null;
  /** Citation numbers that refer to no passage given. */
  invalidCitations: number[];
  /** Figures stated in the answer that no passage given holds. */
  ungroundedFigures: string[];
  languageMatch: boolean;
  /** Why no answer came back (the model failed), when it didn't. */
  error?: string;
}

/** Totals over a QA file; shares are 0..1 over the questions each check applies to (1 when there are none). */
export interface AnswerCheckReport {
  questions: number;
  factInAnswer: number;
  leadHasFact: number;
  citedPassageHasFact: number;
  /** A count, not a share: every figure no given passage holds, over all answers. */
  ungroundedFigures: number;
  invalidCitations: number;
  languageMatch: number;
  outOfScopeRefused: number;
  items: AnswerCheckItem[];
}

/**
 * The language an answer is written in: Chinese when its Chinese characters outnumber its Latin words
 * (a Chinese answer keeps names like "Liang Wenfeng"; an English one may quote 破圈). Offline answers quote
 * the knowledge verbatim, so only their framing, the first line, tells their language.
 */
export function answerLanguage(text: string, mode: AnswerDone['mode'] = 'llm'): ReplyLanguage {
  const framing = mode === 'offline' ? (text.split('\n')[0] ?? '') : text;
  const cjk = framing.match(/\p{Script=Han}/gu)?.length ?? 0;
  const latinWords = framing.match(/\p{Script=Latin}+/gu)?.length ?? 0;
  return cjk > 0 && cjk >= latinWords ? 'zh' : 'en';
}

function containsWord(text: string, term: string): boolean {
  const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu').test(text);
}

/**
 * True when `text` states `fact`: verbatim (ignoring case); through a glossary entry naming the fact
 * ("Liang Wenfeng" ↔ 梁文锋); or, for a fact with figures, when the text holds the same values and an
 * equivalent of every glossary term in the fact ("High-Flyer in 2015" ↔ "2015年创立幻方量化").
 */
export function statesFact(text: string, fact: string, glossary: GlossaryEntry[]): boolean {
  if (text.toLowerCase().includes(fact.toLowerCase())) return true;
  // Latin terms as whole words ("US" is not in "thus"); Chinese ones anywhere, as Chinese has no spaces.
  const mentions = (term: string) => (containsCjk(term) ? text.includes(term) : containsWord(text, term));
  const equivalents = (entry: GlossaryEntry) => entry.terms.some(mentions);
  const naming = glossary.filter((entry) =>
    entry.terms.some((term) => term.toLowerCase() === fact.toLowerCase()),
  );
  if (naming.some(equivalents)) return true;
  const figures = extractFigures(fact);
  if (figures.length === 0) return false;
  const stated = extractFigures(text).map((figure) => figure.value);
  if (!figures.every((figure) => stated.includes(figure.value))) return false;
  return glossary
    .filter((entry) => entry.terms.some((term) => !/^\p{N}/u.test(term) && containsWord(fact, term)))
    .every(equivalents);
}

/** The answer's first cited statement: from the start of the line with the first `[n]` up to that marker. */
function leadOf(answer: string): string {
  const marker = /[[【]\s*\d/.exec(answer);
  if (!marker) return answer;
  const lineStart = answer.lastIndexOf('\n', marker.index) + 1;
  return answer.slice(lineStart, marker.index);
}

/** Judges one answer against its QA case and the passages it was given (from `done.grounding`). */
export function checkAnswer(qa: QaCase, done: AnswerDone, knowledge: KnowledgeBase): AnswerCheckItem {
  const byId = new Map(knowledge.passages.map((passage) => [passage.id, passage]));
  const givenIds = done.grounding?.passageIds ?? done.citations.map((citation) => citation.id);
  const given = givenIds.map((id) => byId.get(id)).filter((passage) => passage !== undefined);
  const cited = citedNumbers(done.answer);
  const lang = detectLanguage(qa.q);
  const language = answerLanguage(done.answer, done.mode);
  const item: AnswerCheckItem = {
    q: qa.q,
    lang,
    outOfScope: 'out_of_scope' in qa,
    answer: done.answer,
    answerLanguage: language,
    notCovered: done.notCovered,
    factInAnswer: null,
    leadHasFact: null,
    citedPassageHasFact: null,
    invalidCitations: cited.filter((n) => n < 1 || n > givenIds.length),
    ungroundedFigures:
      done.grounding?.ungroundedFigures ??
      findUngroundedFigures(
        done.answer,
        given.map((passage) => passage.text),
      ),
    languageMatch: language === lang,
  };
  if ('expect_any' in qa) {
    const holds = (text: string) => qa.expect_any.some((fact) => statesFact(text, fact, knowledge.glossary));
    const citedPassages = cited.map((n) => given[n - 1]).filter((p): p is Passage => p !== undefined);
    item.factInAnswer = holds(done.answer);
    item.leadHasFact = holds(leadOf(done.answer));
    item.citedPassageHasFact = citedPassages.some((passage) => holds(passage.text));
  }
  return item;
}

/** The item for a question whose answer failed: it counts against every check that applies. */
export function failedCheck(qa: QaCase, error: string): AnswerCheckItem {
  const inScope = 'expect_any' in qa;
  return {
    q: qa.q,
    lang: detectLanguage(qa.q),
    outOfScope: !inScope,
    answer: '',
    answerLanguage: detectLanguage(qa.q),
    notCovered: false,
    factInAnswer: inScope ? false : null,
    leadHasFact: inScope ? false : null,
    citedPassageHasFact: inScope ? false : null,
    invalidCitations: [],
    ungroundedFigures: [],
    languageMatch: false,
    error,
  };
}

function share<T>(items: T[], passed: (item: T) => boolean): number {
  return items.length === 0 ? 1 : items.filter(passed).length / items.length;
}

/** Totals over all items: shares of the checks that apply, counts of invented figures and bad citations. */
export function summarizeAnswerChecks(items: AnswerCheckItem[]): AnswerCheckReport {
  const inScope = items.filter((item) => !item.outOfScope);
  const outOfScope = items.filter((item) => item.outOfScope);
  return {
    questions: items.length,
    factInAnswer: share(inScope, (item) => item.factInAnswer === true),
    leadHasFact: share(inScope, (item) => item.leadHasFact === true),
    citedPassageHasFact: share(inScope, (item) => item.citedPassageHasFact === true),
    ungroundedFigures: items.reduce((sum, item) => sum + item.ungroundedFigures.length, 0),
    invalidCitations: items.reduce((sum, item) => sum + item.invalidCitations.length, 0),
    languageMatch: share(items, (item) => item.languageMatch),
    outOfScopeRefused: share(outOfScope, (item) => item.notCovered),
    items,
  };
}
