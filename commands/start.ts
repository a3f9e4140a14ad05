import { z } from 'zod';
import { catalogFor } from '#core/catalog/catalog.js';
import { defineCommand } from './command.ts';
import { helpText } from './help.ts';

/** `/start`: Telegram's greeting — who Poquan is, then the same how-to as `/help`. */
export const startCommand = defineCommand({
  name: 'start',
  description: { en: 'What this bot knows and how to ask', zh: '机器人简介和提问方式' },
  args: z.object({}),
  platforms: ['telegram'],
  async handler(_args, { services, language }) {
    const greeting = catalogFor(language).commands.greeting(services.knowledge().passages.length);
    return { type: 'message', text: `${greeting}\n\n${helpText('telegram', language, services.topic())}` };
  },
});
