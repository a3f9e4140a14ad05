import { z } from 'zod';
import { catalogFor } from '#core/catalog/catalog.js';
import { defineCommand } from './command.ts';

/** `/reset`: forget this conversation, so the next question starts fresh. */
export const resetCommand = defineCommand({
  name: 'reset',
  description: { en: 'Forget this conversation and start fresh', zh: '清除本对话的记忆，重新开始' },
  args: z.object({}),
  async handler(_args, { services, conversationId, language }) {
    await services.memory.reset(conversationId);
    return { type: 'message', text: catalogFor(language).commands.reset };
  },
});
