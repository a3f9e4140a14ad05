import { z } from 'zod';
import { formatCost } from '../src/core/cost.ts';
import { dayOf } from '../src/core/feedback.ts';
import type { ReplyLanguage } from '../src/core/question.ts';
import { type SpendSummary, summarizeSpend } from '../src/core/spend.ts';
import type { CountsBy } from '../src/core/usage.ts';
import { readUsage } from '../src/core/usage.ts';
import type { Poquan } from '../src/poquan.ts';
import { defineOperatorCommand } from './operator.ts';

const dayMs = 86_400_000;
const percent = (share: number | null) => (share === null ? '—' : `${(share * 100).toFixed(1)}%`);

function describeSpend(spend: SpendSummary, language: ReplyLanguage): string {
  const cost = spend.cost.length > 0 ? spend.cost.map(formatCost).join(' + ') : undefined;
  const unpriced = spend.unpriced;
  return language === 'zh'
    ? `回答 ${spend.answers} · 令牌 ${spend.tokens} · 缓存命中 ${percent(spend.cacheHitShare)} · 费用 ${cost ?? '未知'}${unpriced ? `（另有 ${unpriced} 个回答价格未知）` : ''}`
    : `answers ${spend.answers} · tokens ${spend.tokens} · cache hits ${percent(spend.cacheHitShare)} · cost ${cost ?? 'unknown'}${unpriced ? ` (+${unpriced} at an unknown price)` : ''}`;
}

/**
 * Today's and the last 7 days' answers (UTC days, every instance) from the feedback store, which records each
 * delivered answer with its usage, cost and asker hash.
 */
async function describeRecentSpend(poquan: Poquan, language: ReplyLanguage): Promise<string[]> {
  const now = Date.now();
  const days = Array.from({ length: 7 }, (_, i) => dayOf(now - i * dayMs));
  const perDay = await Promise.all(days.map((day) => poquan.feedback.listAnswers(day)));
  const today = summarizeSpend(perDay[0] ?? []);
  const week = summarizeSpend(perDay.flat());
  const users = week.topUsers.map((user) => `${user.user} ${user.tokens}`).join(', ');
  return language === 'zh'
    ? [
        `今天（UTC）：${describeSpend(today, language)}`,
        `最近 7 天：${describeSpend(week, language)}`,
        `令牌最多的用户（7 天，加盐哈希）：${users || '无'}`,
      ]
    : [
        `Today (UTC): ${describeSpend(today, language)}`,
        `Last 7 days: ${describeSpend(week, language)}`,
        `Top users by tokens (7 days, salted hashes): ${users || 'none'}`,
      ];
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
  async handler(_args, { poquan, language }) {
    const usage = await readUsage(poquan.metrics, process.uptime());
    const recent = await describeRecentSpend(poquan, language).catch((error: unknown) => {
      poquan.logger.warn({ err: error }, 'feedback store unavailable; /stats without daily figures');
      return [language === 'zh' ? '每日数据暂时无法读取。' : 'Daily figures are unavailable right now.'];
    });
    const knowledge = poquan.knowledge();
    const total = Object.values(usage.questionsByOutcome).reduce((sum, n) => sum + n, 0);
    const none = language === 'zh' ? '无' : 'none';
    const lines =
      language === 'zh'
        ? [
            '**用量与费用**',
            ...recent,
            '',
            `**使用情况**（启动 ${formatUptime(usage.uptimeSeconds)} 以来）`,
            `提问：共 ${total}（${formatCounts(usage.questionsByOutcome, none)}）`,
            `平台：${formatCounts(usage.questionsByPlatform, none)}`,
            `错误：${formatCounts(usage.errorsByKind, none)}`,
            `因频率限制拒绝：${usage.rateLimited}；因令牌额度拒绝：${usage.budgetRefused}`,
            `模型令牌：${formatCounts(usage.tokensByKind, none)}`,
            `知识库：版本 ${knowledge.version}，共 ${knowledge.passages.length} 段`,
          ]
        : [
            '**Usage and cost**',
            ...recent,
            '',
            `**Usage** since start (${formatUptime(usage.uptimeSeconds)} ago)`,
            `Questions: ${total} (${formatCounts(usage.questionsByOutcome, none)})`,
            `Platforms: ${formatCounts(usage.questionsByPlatform, none)}`,
            `Errors: ${formatCounts(usage.errorsByKind, none)}`,
            `Refused by the rate limit: ${usage.rateLimited}; by a token budget: ${usage.budgetRefused}`,
            `Model tokens: ${formatCounts(usage.tokensByKind, none)}`,
            `Knowledge: version ${knowledge.version}, ${knowledge.passages.length} passages`,
          ];
    return { type: 'message', text: lines.join('\n') };
  },
});
