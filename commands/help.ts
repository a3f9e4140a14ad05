import { z } from 'zod';
import type { ReplyLanguage } from '../src/core/question.ts';
import type { Topic } from '../src/core/topic.ts';
import { type CommandPlatform, defineCommand, type Localized } from './command.ts';

/** What the bot answers questions about, with the topic's examples when it has some. */
function intro(topic: Topic, language: ReplyLanguage): string {
  const examples = topic.examples?.[language];
  return language === 'zh'
    ? `我可以回答关于${topic.zh}的问题${examples ? `，例如 ${examples}` : ''}。回答基于知识库，并以 [1]、[2] 标注出处。`
    : `Ask me about ${topic.en}${examples ? ` — for example ${examples}` : ''}. I answer from my knowledge file and cite the passages as [1], [2].`;
}

const sharedCommands: Localized = {
  en: [
    '• `/sources` — the passages behind my last answer',
    '• `/reset` — forget our conversation',
    '• `/about` — knowledge files, model and version',
    '• `/usage` — your answers and tokens today, and what is left of your budget',
  ].join('\n'),
  zh: [
    '• `/sources` — 查看上一个回答引用的段落',
    '• `/reset` — 清除对话记忆',
    '• `/about` — 知识库、模型和版本',
    '• `/usage` — 你今天的回答数、令牌用量和剩余额度',
  ].join('\n'),
};

const otherLanguage: Localized = {
  en: 'I answer in the language you ask in: 也可以用中文提问。',
  zh: 'You can also ask in English.',
};

/** How to ask on each platform: its command syntax, and what reaches the bot in a group or server. */
const howToAsk: Record<CommandPlatform, { first: Localized; after: Localized }> = {
  telegram: {
    first: {
      en: '• `/ask <question>` — ask a question (in a private chat, just type it)',
      zh: '• `/ask <问题>` — 提问（私聊时直接发送问题即可）',
    },
    after: {
      en: 'In groups, use `/ask`, mention me, or reply to one of my messages. On Telegram, group privacy mode means I only see commands, mentions and replies to me — other chatter never reaches me.',
      zh: '在群组中，请使用 `/ask`、@我，或回复我的消息。Telegram 的群组隐私模式下，我只能看到命令、@我的消息和对我的回复，看不到其他聊天内容。',
    },
  },
  discord: {
    first: {
      en: '• `/ask question:` — ask a question (set `private:` True so only you see the answer); in a DM with me, just type it',
      zh: '• `/ask question:` — 提问（将 `private:` 设为 True 则只有你能看到回答）；私信中直接发送问题即可',
    },
    after: {
      en: 'In a server, use `/ask`, mention me, or reply to one of my answers with the @mention left on; I never read other messages. To ask about any message, open its menu: **Apps → Ask Poquan**.',
      zh: '在服务器中，请使用 `/ask`、@我，或在回复我的回答时保持 @提及 开启；其他消息我一概不读。想就某条消息提问，可打开该消息的菜单：**应用 → 问破圈**。',
    },
  },
  cli: {
    first: {
      en: '• type a question and press Enter',
      zh: '• 输入问题后按回车',
    },
    after: {
      en: '`/exit` ends the chat; the conversation is remembered for the next `poquan chat`.',
      zh: '`/exit` 结束对话；下次运行 `poquan chat` 时仍记得这段对话。',
    },
  },
};

/** The how-to text for one platform and topic, shared by `/help` and Telegram's `/start`. */
export function helpText(platform: CommandPlatform, language: ReplyLanguage, topic: Topic): string {
  const { first, after } = howToAsk[platform];
  return [
    intro(topic, language),
    '',
    first[language],
    sharedCommands[language],
    '',
    after[language],
    otherLanguage[language],
  ].join('\n');
}

/** `/help`: how to ask on this platform, and what each command does. */
export const helpCommand = defineCommand({
  name: 'help',
  description: { en: 'How to ask questions and what each command does', zh: '使用说明和命令列表' },
  args: z.object({}),
  async handler(_args, { poquan, language, platform }) {
    return { type: 'message', text: helpText(platform, language, poquan.topic()) };
  },
});
