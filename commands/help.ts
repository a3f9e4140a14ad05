import { z } from 'zod';
import { defineCommand } from './command.ts';

/** The how-to text shared by `/help` and `/start`. */
export const helpText = {
  en: [
    'Ask me about China\'s AI race — DeepSeek, Qwen, Ernie Bot, Doubao, the "six little tigers", state AI funding, Chatbot Arena standings. I answer from my knowledge file and cite the passages as [1], [2].',
    '',
    '• `/ask <question>` — ask a question (in a private chat, just type it)',
    '• `/sources` — the passages behind my last answer',
    '• `/reset` — forget our conversation',
    '• `/about` — knowledge files, model and version',
    '• `/usage` — your answers and tokens today, and what is left of your budget',
    '',
    'In groups, use `/ask`, mention me, or reply to one of my messages. On Telegram, group privacy mode means I only see commands, mentions and replies to me — other chatter never reaches me.',
    'I answer in the language you ask in: 也可以用中文提问。',
  ].join('\n'),
  zh: [
    '我可以回答关于中国人工智能竞赛的问题——DeepSeek（深度求索）、通义千问、文心一言、豆包、“六小虎”、国家对人工智能的投资、Chatbot Arena 排名等。回答基于知识库，并以 [1]、[2] 标注出处。',
    '',
    '• `/ask <问题>` — 提问（私聊时直接发送问题即可）',
    '• `/sources` — 查看上一个回答引用的段落',
    '• `/reset` — 清除对话记忆',
    '• `/about` — 知识库、模型和版本',
    '• `/usage` — 你今天的回答数、令牌用量和剩余额度',
    '',
    '在群组中，请使用 `/ask`、@我，或回复我的消息。Telegram 的群组隐私模式下，我只能看到命令、@我的消息和对我的回复，看不到其他聊天内容。',
    'You can also ask in English.',
  ].join('\n'),
};

/** `/help`: how to ask, and what each command does. */
export const helpCommand = defineCommand({
  name: 'help',
  description: { en: 'How to ask questions and what each command does', zh: '使用说明和命令列表' },
  args: z.object({}),
  async handler(_args, { language }) {
    return { type: 'message', text: helpText[language] };
  },
});
