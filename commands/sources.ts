import { z } from 'zod';
import { catalogFor } from '#core/catalog/catalog.js';
import { headUnits } from '#core/text.js';
import { defineCommand } from './command.ts';
import { quoteUserText } from './markdown.ts';

const excerptChars = 220;

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > excerptChars ? `${headUnits(flat, excerptChars - 1)}…` : flat;
}

/** `/sources`: the passages behind the last answer in this conversation, with short excerpts. */
export const sourcesCommand = defineCommand({
  name: 'sources',
  description: { en: 'Show the passages behind the last answer', zh: '查看上一个回答引用的段落' },
  args: z.object({}),
  async handler(_args, { services, conversationId, language }) {
    const { commands } = catalogFor(language);
    const last = (await services.memory.load(conversationId)).at(-1);
    if (!last || last.citations.length === 0) {
      return { type: 'message', text: commands.noSources };
    }
    const passages = new Map(services.knowledge().passages.map((passage) => [passage.id, passage]));
    const lines = last.citations.map((citation) => {
      const passage = passages.get(citation.id);
      const body = passage ? excerpt(passage.text) : commands.passageRemoved;
      return `[${citation.n}] **${citation.heading}** — ${citation.source}\n> ${body}`;
    });
    const header = commands.sourcesHeader(quoteUserText(last.question));
    const footer = commands.knowledgeVersion(last.knowledgeVersion);
    return { type: 'message', text: `${header}\n\n${lines.join('\n\n')}\n\n_${footer}_` };
  },
});
