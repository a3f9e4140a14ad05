import { z } from 'zod';
import { defineCommand } from './command.ts';
import { helpText } from './help.ts';

/** `/start`: Telegram's greeting — who Poquan is, then the same how-to as `/help`. */
export const startCommand = defineCommand({
  name: 'start',
  description: { en: 'What this bot knows and how to ask', zh: '机器人简介和提问方式' },
  args: z.object({}),
  platforms: ['telegram'],
  async handler(_args, { poquan, language }) {
    const passages = poquan.knowledge().passages.length;
    const greeting =
      language === 'zh'
        ? `你好！我是**破圈 Poquan**，知识库共 ${passages} 段。`
        : `Hi! I'm **Poquan** (破圈), with ${passages} passages of knowledge.`;
    return { type: 'message', text: `${greeting}\n\n${helpText('telegram', language, poquan.topic())}` };
  },
});
