import type { AnswerCheckItem, AnswerCheckReport } from '../../core/answer-check.ts';

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const mark = (passed: boolean | null) => (passed === null ? '·' : passed ? '✓' : '✗');

function itemLine(item: AnswerCheckItem): string {
  const problems = [
    item.error,
    item.ungroundedFigures.length ? `ungrounded figures: ${item.ungroundedFigures.join(', ')}` : '',
    item.invalidCitations.length ? `citations to no passage: ${item.invalidCitations.join(', ')}` : '',
    item.outOfScope && !item.notCovered ? 'answered instead of "not covered"' : '',
    item.languageMatch ? '' : `answered in ${item.answerLanguage}`,
  ].filter(Boolean);
  const checks = item.outOfScope
    ? `refused ${mark(item.notCovered)}`
    : `fact ${mark(item.factInAnswer)} lead ${mark(item.leadHasFact)} cited ${mark(item.citedPassageHasFact)}`;
  return `  ${checks}  ${item.q}${problems.length ? `\n      ${problems.join('; ')}` : ''}`;
}

/** The `eval --answers` report for a terminal: one line per question, then the totals. */
export function renderAnswerCheckForTerminal(report: AnswerCheckReport, title: string): string {
  return [
    `Answers on ${title}`,
    ...report.items.map(itemLine),
    '',
    `  ${report.questions} questions`,
    `  fact in answer ${pct(report.factInAnswer)} · in the first cited statement ${pct(report.leadHasFact)} · in a cited passage ${pct(report.citedPassageHasFact)}`,
    `  ungrounded figures ${report.ungroundedFigures} · citations to no passage ${report.invalidCitations}`,
    `  language match ${pct(report.languageMatch)} · out of scope refused ${pct(report.outOfScopeRefused)}`,
    '',
  ].join('\n');
}
