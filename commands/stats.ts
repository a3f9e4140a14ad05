import { z } from 'zod';
import { catalogFor } from '#core/catalog/catalog.js';
import { formatCost } from '#core/cost.js';
import { dayOf } from '#core/feedback.js';
import type { ReplyLanguage } from '#core/question.js';
import { type SpendSummary, summarizeSpend } from '#core/spend.js';
import type { CountsBy } from '#core/usage.js';
import { readUsage } from '#core/usage.js';
import type { CommandServices } from './command.ts';
import { defineOperatorCommand } from './operator.ts';

const dayMs = 86_400_000;
const percent = (share: number | null) => (share === null ? '—' : `${(share * 100).toFixed(1)}%`);

function describeSpend(spend: SpendSummary, language: ReplyLanguage): string {
  return catalogFor(language).commands.spend({
    answers: spend.answers,
    tokens: spend.tokens,
    cacheHits: percent(spend.cacheHitShare),
    cost: spend.cost.length > 0 ? spend.cost.map(formatCost).join(' + ') : undefined,
    unpriced: spend.unpriced,
  });
}

/**
 * Today's and the last 7 days' answers (UTC days, every instance) from the feedback store, which records each
 * delivered answer with its usage, cost and asker hash.
 */
async function describeRecentSpend(services: CommandServices, language: ReplyLanguage): Promise<string[]> {
  const now = Date.now();
  const days = Array.from({ length: 7 }, (_, i) => dayOf(now - i * dayMs));
  const perDay = await Promise.all(days.map((day) => services.feedback.listAnswers(day)));
  const week = summarizeSpend(perDay.flat());
  const users = week.topUsers.map((user) => `${user.user} ${user.tokens}`).join(', ');
  return catalogFor(language).commands.recentSpend(
    describeSpend(summarizeSpend(perDay[0] ?? []), language),
    describeSpend(week, language),
    users || undefined,
  );
}

function formatCounts(counts: CountsBy, none: string): string {
  const entries = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([, a], [, b]) => b - a);
  return entries.length === 0 ? none : entries.map(([key, n]) => `${key} ${n}`).join(', ');
}

function formatUptime(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (days > 0) return `${days}d ${hours % 24}h`;
  if (hours > 0) return `${hours}h ${minutes % 60}m`;
  return `${minutes}m ${Math.floor(seconds) % 60}s`;
}

/**
 * `/stats` (operators only): today's and the last 7 days' answers, tokens, cache-hit share, cost and top users
 * across every instance (from the feedback store), then what this process has done since it started —
 * questions by outcome and platform, errors by cause, refusals, model tokens — from the counters `/metrics`
 * serves.
 */
export const statsCommand = defineOperatorCommand({
  name: 'stats',
  description: {
    en: 'Operators: answers, tokens and cost today and this week; errors since start',
    zh: '管理员：今天和本周的回答、令牌和费用；启动以来的错误',
  },
  args: z.object({}),
  platforms: ['telegram', 'discord'],
  async handler(_args, { services, language }) {
    const usage = await readUsage(services.metrics, process.uptime());
    const { commands } = catalogFor(language);
    const recent = await describeRecentSpend(services, language).catch((error: unknown) => {
      services.logger.warn({ err: error }, 'feedback store unavailable; /stats without daily figures');
      return [commands.statsUnavailable];
    });
    const knowledge = services.knowledge();
    const counts = (by: CountsBy) => formatCounts(by, commands.none);
    const lines = commands.stats({
      recent,
      uptime: formatUptime(usage.uptimeSeconds),
      total: Object.values(usage.questionsByOutcome).reduce((sum, n) => sum + n, 0),
      outcomes: counts(usage.questionsByOutcome),
      platforms: counts(usage.questionsByPlatform),
      errors: counts(usage.errorsByKind),
      rateLimited: usage.rateLimited,
      budgetRefused: usage.budgetRefused,
      tokens: counts(usage.tokensByKind),
      knowledgeVersion: knowledge.version,
      passages: knowledge.passages.length,
    });
    return { type: 'message', text: lines.join('\n') };
  },
});
