import { z } from 'zod';
import { describeContextStrategy } from '../src/core/context.ts';
import { poquanVersion } from '../src/version.ts';
import { defineCommand } from './command.ts';

/** `/about`: what this instance runs on — knowledge files, passage count, model, context mode, version. */
export const aboutCommand = defineCommand({
  name: 'about',
  description: { en: 'Knowledge files, model and version of this bot', zh: '本机器人的知识库、模型和版本' },
  args: z.object({}),
  async handler(_args, { poquan, language }) {
    const knowledge = poquan.knowledge();
    const files = knowledge.files.map((file) => {
      const origin = [file.publication, file.date].filter(Boolean).join(', ');
      return `• ${file.title}${origin ? ` (${origin})` : ''} — ${file.source}, ${file.passageCount} ${language === 'zh' ? '段' : 'passages'}`;
    });
    const context = describeContextStrategy(poquan.context(), language);
    const model = poquan.llm
      ? `${poquan.llm.model} (${poquan.llm.provider})`
      : language === 'zh'
        ? '未配置（离线模式：引用原文）'
        : 'none configured (offline mode: quotes passages)';
    const lines =
      language === 'zh'
        ? [
            `**破圈 Poquan** ${poquanVersion}`,
            `知识库（版本 ${knowledge.version}，共 ${knowledge.passages.length} 段）：`,
            ...files,
            `模型：${model}`,
            `上下文：${context}`,
          ]
        : [
            `**Poquan** (破圈) ${poquanVersion}`,
            `Knowledge (version ${knowledge.version}, ${knowledge.passages.length} passages):`,
            ...files,
            `Model: ${model}`,
            `Context: ${context}`,
          ];
    return { type: 'message', text: lines.join('\n') };
  },
});
