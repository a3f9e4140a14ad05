import { z } from 'zod';
import { catalogFor } from '#core/catalog/catalog.js';
import { describeContextStrategy } from '#core/context.js';
import { poquanVersion } from '#src/version.js';
import { defineCommand } from './command.ts';

/** `/about`: what this instance runs on — knowledge files, passage count, model, context mode, version. */
export const aboutCommand = defineCommand({
  name: 'about',
  description: { en: 'Knowledge files, model and version of this bot', zh: '本机器人的知识库、模型和版本' },
  args: z.object({}),
  async handler(_args, { services, language }) {
    const { commands } = catalogFor(language);
    const knowledge = services.knowledge();
    const files = knowledge.files.map((file) => {
      const origin = [file.publication, file.date].filter(Boolean).join(', ');
      return `• ${file.title}${origin ? ` (${origin})` : ''} — ${file.source}, ${commands.passages(file.passageCount)}`;
    });
    const lines = commands.about({
      version: poquanVersion,
      knowledgeVersion: knowledge.version,
      passages: knowledge.passages.length,
      files,
      model: services.llm ? `${services.llm.model} (${services.llm.provider})` : undefined,
      context: describeContextStrategy(services.context(), language),
    });
    return { type: 'message', text: lines.join('\n') };
  },
});
