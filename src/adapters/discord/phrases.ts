import type { Localized } from '../../../commands/command.ts';
import type { ReplyLanguage } from '../../core/question.ts';

/** The few sentences only the Discord adapter says, in both languages Poquan speaks. */
export const discordPhrases = {
  notAllowedHere: {
    en: "Poquan isn't enabled here. The operator can allow this server in DISCORD_ALLOWED_GUILD_IDS.",
    zh: '此处未启用破圈。管理员可在 DISCORD_ALLOWED_GUILD_IDS 中允许本服务器。',
  },
  restarting: {
    en: 'Poquan is restarting. Please ask again in a moment.',
    zh: '破圈正在重启，请稍后再问。',
  },
  noTextInMessage: {
    en: 'That message has no text I can read.',
    zh: '这条消息里没有我能读取的文字。',
  },
  mentionHint: {
    en: 'Ask me a question after the mention, for example “@Poquan Who founded DeepSeek?”. When you reply to one of my answers, keep the @mention switched on so I can read your message — or use `/ask`.',
    zh: '请在 @我 之后写上问题，例如“@Poquan DeepSeek 的创始人是谁？”。回复我的消息时请保持 @提及 开启，这样我才能读到内容——也可以使用 `/ask`。',
  },
  interruptedByRestart: {
    en: '⚠️ Poquan restarted before it could finish this answer, and it is too late to finish it now. Please ask again.',
    zh: '⚠️ 破圈在完成这个回答之前重启了，现在已来不及补上。请重新提问。',
  },
  unknownCommand: {
    en: "I don't know that command. Try `/help`.",
    zh: '我不认识这个命令，试试 `/help`。',
  },
} satisfies Record<string, Localized>;

/** Discord sends the user's client language (`zh-CN`, `zh-TW`, `en-US` …); Poquan speaks Chinese or English. */
export function languageOfLocale(locale: string | null | undefined): ReplyLanguage {
  return locale?.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}
