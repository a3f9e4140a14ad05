import { z } from 'zod';
import type { CountsBy } from '../src/core/usage.ts';
import { readUsage } from '../src/core/usage.ts';
import { defineOperatorCommand } from './operator.ts';

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
 * `/stats` (operators only): what this process has answered since it started — questions by outcome and
 * platform, errors by cause, rate-limit refusals, model tokens — read from the same counters `/metrics` serves.
 */
export const statsCommand = defineOperatorCommand({
  name: 'stats',
  description: {
    en: 'Operators: usage since start — questions, errors, tokens',
    zh: '管理员：启动以来的使用情况——提问、错误、令牌',
  },
  args: z.object({}),
  platforms: ['telegram', 'discord'],
  async handler(_args, { poquan, language }) {
    const usage = await readUsage(poquan.metrics, process.uptime());
    const knowledge = poquan.knowledge();
    const total = Object.values(usage.questionsByOutcome).reduce((sum, n) => sum + n, 0);
    const none = language === 'zh' ? '无' : 'none';
    const lines =
      language === 'zh'
        ? [
            `**使用情况**（启动 ${formatUptime(usage.uptimeSeconds)} 以来）`,
            `提问：共 ${total}（${formatCounts(usage.questionsByOutcome, none)}）`,
            `平台：${formatCounts(usage.questionsByPlatform, none)}`,
            `错误：${formatCounts(usage.errorsByKind, none)}`,
            `因频率限制拒绝：${usage.rateLimited}`,
            `模型令牌：${formatCounts(usage.tokensByKind, none)}`,
            `知识库：版本 ${knowledge.version}，共 ${knowledge.passages.length} 段`,
          ]
        : [
            `**Usage** since start (${formatUptime(usage.uptimeSeconds)} ago)`,
            `Questions: ${total} (${formatCounts(usage.questionsByOutcome, none)})`,
            `Platforms: ${formatCounts(usage.questionsByPlatform, none)}`,
            `Errors: ${formatCounts(usage.errorsByKind, none)}`,
            `Refused by the rate limit: ${usage.rateLimited}`,
            `Model tokens: ${formatCounts(usage.tokensByKind, none)}`,
            `Knowledge: version ${knowledge.version}, ${knowledge.passages.length} passages`,
          ];
    return { type: 'message', text: lines.join('\n') };
  },
});
