import { z } from 'zod';
import { catalogFor } from '#core/catalog/catalog.js';
import type { ReplyLanguage } from '#core/question.js';
import type { Topic } from '#core/topic.js';
import { type CommandPlatform, defineCommand } from './command.ts';

/** The how-to text for one platform and topic, shared by `/help` and Telegram's `/start`. */
export function helpText(platform: CommandPlatform, language: ReplyLanguage, topic: Topic): string {
  const { commands } = catalogFor(language);
  return [
    commands.helpIntro(topic[language], topic.examples?.[language]),
    '',
    commands.helpFirst[platform],
    commands.helpCommands,
    '',
    commands.helpAfter[platform],
    commands.helpOtherLanguage,
  ].join('\n');
}

/** `/help`: how to ask on this platform, and what each command does. */
export const helpCommand = defineCommand({
  name: 'help',
  description: { en: 'How to ask questions and what each command does', zh: '使用说明和命令列表' },
  args: z.object({}),
  async handler(_args, { services, language, platform }) {
    return { type: 'message', text: helpText(platform, language, services.topic()) };
  },
});
