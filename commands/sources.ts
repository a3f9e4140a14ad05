import { z } from 'zod';
import { headUnits } from '../src/core/text.ts';
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
  async handler(_args, { poquan, conversationId, language }) {
    const last = (await poquan.memory.load(conversationId)).at(-1);
    if (!last || last.citations.length === 0) {
      return {
        type: 'message',
        text:
          language === 'zh'
            ? '这里还没有带出处的回答。先问一个问题吧。'
            : 'No answer with sources here yet. Ask me something first.',
      };
    }
    const passages = new Map(poquan.knowledge().passages.map((passage) => [passage.id, passage]));
    const lines = last.citations.map((citation) => {
      const passage = passages.get(citation.id);
      const body = passage
        ? excerpt(passage.text)
        : language === 'zh'
          ? '（该段落已在知识库更新中移除）'
          : '(passage removed by a knowledge update)';
      return `[${citation.n}] **${citation.heading}** — ${citation.source}\n> ${body}`;
    });
    const header =
      language === 'zh'
        ? `上一个回答的出处（“${quoteUserText(last.question)}”）：`
        : `Sources of the last answer ("${quoteUserText(last.question)}"):`;
    const footer =
      language === 'zh'
        ? `知识库版本 ${last.knowledgeVersion}`
        : `Knowledge version ${last.knowledgeVersion}`;
    return { type: 'message', text: `${header}\n\n${lines.join('\n\n')}\n\n_${footer}_` };
  },
});
