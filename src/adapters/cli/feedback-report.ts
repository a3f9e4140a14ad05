import type { FeedbackReport } from '../../core/feedback-report.ts';
import type { TerminalStyle } from './render.ts';

const percent = (ratio: number | null) => (ratio === null ? '—' : `${(ratio * 100).toFixed(1)}%`);

function section(title: string, lines: string[], style: TerminalStyle): string {
  return `${style.bold(title)}\n${lines.length > 0 ? lines.join('\n') : style.dim('  (none)')}\n`;
}

/** The report for a terminal: totals first, then the three lists an operator acts on. */
export function renderFeedbackReportForTerminal(report: FeedbackReport, style: TerminalStyle): string {
  const { votes } = report;
  const counted = (items: Array<{ question: string; count: number }>) =>
    items.map((item) => `  ${String(item.count).padStart(4)}  ${item.question}`);
  return [
    `${style.bold('Feedback')} ${report.from} → ${report.to} (UTC)`,
    `  answers ${report.answers} · not covered ${report.notCovered}`,
    `  votes ${votes.total} · 👍 ${votes.up} · 👎 ${votes.down} · 👍 share ${percent(votes.upRatio)}`,
    '',
    section('Most asked questions', counted(report.topQuestions), style),
    section('Knowledge gaps (answered "not covered")', counted(report.knowledgeGaps), style),
    section(
      'Passages most cited in 👎 answers',
      report.downvotedPassages.map(
        (passage) =>
          `  ${String(passage.count).padStart(4)}  ${passage.passageId}${
            passage.heading ? style.dim(` — ${passage.heading} (${passage.source})`) : ''
          }`,
      ),
      style,
    ),
  ].join('\n');
}

/**
 * A CSV cell: quoted when needed, and with a leading `'` when it starts like a formula (`=`, `+`, `-`, `@`,
 * tab, CR), because questions come from users and spreadsheets execute formulas on open.
 * @see https://owasp.org/www-community/attacks/CSV_Injection
 */
function csvCell(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The report as one CSV table (`section,item,count`) for spreadsheets: a `summary` row per total, then one row
 * per entry of `top_question`, `knowledge_gap` and `downvoted_passage`. The 👍 share is a number from 0 to 1.
 */
export function renderFeedbackReportCsv(report: FeedbackReport): string {
  const rows: Array<[string, string, string | number]> = [
    ['summary', 'from', report.from],
    ['summary', 'to', report.to],
    ['summary', 'answers', report.answers],
    ['summary', 'not_covered', report.notCovered],
    ['summary', 'votes', report.votes.total],
    ['summary', 'up', report.votes.up],
    ['summary', 'down', report.votes.down],
    ['summary', 'up_ratio', report.votes.upRatio === null ? '' : report.votes.upRatio.toFixed(4)],
    ...report.topQuestions.map((q): [string, string, number] => ['top_question', q.question, q.count]),
    ...report.knowledgeGaps.map((q): [string, string, number] => ['knowledge_gap', q.question, q.count]),
    ...report.downvotedPassages.map((p): [string, string, number] => [
      'downvoted_passage',
      p.passageId,
      p.count,
    ]),
  ];
  return `${[['section', 'item', 'count'], ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
