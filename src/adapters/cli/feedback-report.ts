import { formatCost } from '../../core/cost.ts';
import type { FeedbackReport } from '../../core/feedback-report.ts';
import type { SpendSummary } from '../../core/spend.ts';
import type { TerminalStyle } from './render.ts';

const percent = (ratio: number | null) => (ratio === null ? '—' : `${(ratio * 100).toFixed(1)}%`);

function section(title: string, lines: string[], style: TerminalStyle): string {
  return `${style.bold(title)}\n${lines.length > 0 ? lines.join('\n') : style.dim('  (none)')}\n`;
}

/** Tokens, cache-hit share and cost in one line; answers at an unknown price are counted, not priced. */
export function describeSpend(spend: SpendSummary): string {
  const cost = spend.cost.length > 0 ? spend.cost.map(formatCost).join(' + ') : 'unknown';
  const unpriced = spend.unpriced > 0 ? ` (+${spend.unpriced} answers at an unknown price)` : '';
  return `tokens ${spend.tokens} · cache hits ${percent(spend.cacheHitShare)} of prompt · cost ${cost}${unpriced}`;
}

/** The report for a terminal: totals first, then the lists an operator acts on. */
export function renderFeedbackReportForTerminal(report: FeedbackReport, style: TerminalStyle): string {
  const { votes } = report;
  const counted = (items: Array<{ question: string; count: number }>) =>
    items.map((item) => `  ${String(item.count).padStart(4)}  ${item.question}`);
  return [
    `${style.bold('Feedback')} ${report.from} → ${report.to} (UTC)`,
    `  answers ${report.answers} · not covered ${report.notCovered}`,
    `  votes ${votes.total} · 👍 ${votes.up} · 👎 ${votes.down} · 👍 share ${percent(votes.upRatio)}`,
    `  ${describeSpend(report.spend)}`,
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
    section(
      'Top users by tokens (salted hashes)',
      report.spend.topUsers.map(
        (user) =>
          `  ${String(user.tokens).padStart(6)}  ${user.user} ${style.dim(`(${user.answers} answers)`)}`,
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
 * per entry of `top_question`, `knowledge_gap`, `downvoted_passage` and `top_user` (tokens by salted hash).
 * The 👍 and cache-hit shares are numbers from 0 to 1; cost has one `cost_<currency>` row per currency.
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
    ['summary', 'tokens', report.spend.tokens],
    [
      'summary',
      'cache_hit_share',
      report.spend.cacheHitShare === null ? '' : report.spend.cacheHitShare.toFixed(4),
    ],
    ...report.spend.cost.map((cost): [string, string, string] => [
      'summary',
      `cost_${cost.currency}`,
      cost.amount.toFixed(6),
    ]),
    ['summary', 'unpriced_answers', report.spend.unpriced],
    ...report.topQuestions.map((q): [string, string, number] => ['top_question', q.question, q.count]),
    ...report.knowledgeGaps.map((q): [string, string, number] => ['knowledge_gap', q.question, q.count]),
    ...report.downvotedPassages.map((p): [string, string, number] => [
      'downvoted_passage',
      p.passageId,
      p.count,
    ]),
    ...report.spend.topUsers.map((u): [string, string, number] => ['top_user', u.user, u.tokens]),
  ];
  return `${[['section', 'item', 'count'], ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
