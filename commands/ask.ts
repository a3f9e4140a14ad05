import { z } from 'zod';
import { catalogFor } from '#core/catalog/catalog.js';
import { defineCommand } from './command.ts';

/**
 * `/ask <question>`: the main job, and what a plain message to the bot runs. The answer streams from the core's
 * one turn (`services.ask`), which checks the daily budgets and the per-user rate limit before any model call and
 * records the answer for feedback, so every platform (and the CLI) answers and refuses alike.
 */
export const askCommand = defineCommand({
  name: 'ask',
  description: (topic) => ({
    en: `Ask a question about ${topic.en}; the answer cites its sources`,
    zh: `提问关于${topic.zh}的问题，回答附带出处`,
  }),
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
  streams: true,
  plainTextOption: 'question',
  async handler(
    { question },
    { services, platform, conversationId, userKey, turnId, language, signal, log },
  ) {
    if (!question.trim()) {
      return { type: 'message', text: catalogFor(language).commands.askHint };
    }
    return {
      type: 'stream',
      question,
      language,
      events: await services.ask({
        question,
        conversationId,
        userKey,
        platform,
        ...(turnId ? { id: turnId } : {}),
        ...(signal ? { signal } : {}),
        ...(log ? { log } : {}),
      }),
    };
  },
});
