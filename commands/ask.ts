import { z } from 'zod';
import { platformOfUserKey } from '../src/core/access.ts';
import { defineCommand } from './command.ts';

/** `/ask <question>`: the main job. Rate-limited per user here, so every platform limits alike. */
export const askCommand = defineCommand({
  name: 'ask',
  description: {
    en: "Ask a question about China's AI race; the answer cites its sources",
    zh: '提问关于中国人工智能竞赛的问题，回答附带出处',
  },
  args: z.object({
    question: z
      .string()
      .max(20_000)
      .meta({ descriptions: { en: 'Your question, in English or Chinese', zh: '你的问题（中文或英文）' } }),
    private: z
      .boolean()
      .optional()
      .meta({ descriptions: { en: 'Only you see the answer', zh: '仅自己可见' } }),
  }),
  async handler({ question }, { poquan, userKey, language }) {
    if (!question.trim()) {
      return {
        type: 'message',
        text:
          language === 'zh'
            ? '请在命令后写上问题，例如：`/ask DeepSeek的创始人是谁？`'
            : 'Please add a question after the command, for example: `/ask Who founded DeepSeek?`',
      };
    }
    const decision = await poquan.rateLimiter.take(userKey).catch((error: unknown) => {
      poquan.logger.warn({ err: error }, 'rate limiter unavailable; allowing the question');
      return { allowed: true } as const;
    });
    if (!decision.allowed) {
      poquan.metrics.rateLimited.inc({ platform: platformOfUserKey(userKey) });
      return {
        type: 'message',
        text:
          language === 'zh'
            ? `提问太频繁了，请在 ${decision.retryAfterSeconds} 秒后再试。`
            : `You're asking faster than I can answer. Please try again in ${decision.retryAfterSeconds} s.`,
      };
    }
    return { type: 'answer', question };
  },
});
