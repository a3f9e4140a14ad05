import {
  type APIMessage,
  cleanContent,
  type Message,
  type REST,
  Routes,
  type SendableChannels,
} from 'discord.js';
import { askCommand } from '../../../commands/ask.ts';
import { userKeyOf } from '../../core/access.ts';
import { describeErrorForUser } from '../../core/errors.ts';
import { interfaceLanguage } from '../../core/interface-language.ts';
import { detectLanguage } from '../../core/question.ts';
import {
  contextConversationId,
  conversationForReply,
  rememberAnswerMessages,
  turnOf,
} from './conversations.ts';
import {
  type AnswerSurface,
  deliverMessages,
  type StreamOptions,
  serializeSurface,
  streamAnswer,
} from './deliver.ts';
import { reportError } from './errors.ts';
import { discordPhrases, languageOfLocale } from './phrases.ts';
import { renderDiscordText } from './render.ts';

/** What handling a message or an interaction needs besides the event itself. */
export interface HandlerOptions extends StreamOptions {
  /** True once the adapter is stopping: new questions are turned away. */
  isStopping(): boolean;
  /**
   * True if this instance should handle the event: several instances on one bot token each receive every
   * event, and only the first to claim it answers.
   */
  claim(eventKey: string): Promise<boolean>;
}

/**
 * The question in a message: the text without the mention of the bot, other mentions turned into readable
 * names (`<@42>` → `@alice`), surrounding space trimmed. Empty when there is nothing else.
 */
export function questionFromMessage(message: Message, botId: string): string {
  const withoutBot = message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ');
  return cleanContent(withoutBot, message.channel).trim();
}

/** The answer to a message: a reply to it, edited while streaming, with follow-ups for the rest. */
function messageSurface(message: Message, channel: SendableChannels, previewRest: REST): AnswerSurface {
  let answerId: string | undefined;
  return serializeSurface({
    async show(content, extras) {
      const answer = answerId
        ? await channel.messages.edit(answerId, { content, ...extras })
        : await message.reply({ content, ...extras });
      answerId = answer.id;
      return answer.id;
    },
    async preview(content) {
      const allowed_mentions = { parse: [], replied_user: false };
      if (answerId) {
        await previewRest.patch(Routes.channelMessage(channel.id, answerId), {
          body: { content, allowed_mentions },
        });
        return;
      }
      const reply = (await previewRest.post(Routes.channelMessages(channel.id), {
        body: {
          content,
          allowed_mentions,
          message_reference: { message_id: message.id, fail_if_not_exists: false },
        },
      })) as APIMessage;
      answerId = reply.id;
    },
    append: async (content, extras) => (await channel.send({ content, ...extras })).id,
    fallback: async (content, extras) => (await channel.send({ content, ...extras })).id,
  });
}

/**
 * Answers a message that is addressed to the bot: any DM, a mention of the bot in a guild channel or
 * thread, or a reply to one of its messages. Everything else is ignored without a request.
 *
 * Message Content: the adapter does not request the privileged MESSAGE_CONTENT intent. Discord still
 * delivers the text of DMs with the bot and of messages that mention it — and a reply mentions the
 * replied-to author unless the user switches the ping off, in which case the text arrives empty and the
 * bot answers with a hint (keep the @mention on, or use `/ask`). Enabling the intent in the Developer
 * Portal changes nothing unless the code also requests it; it would only make ping-less replies readable.
 * @see https://discord.com/developers/docs/events/gateway#message-content-intent
 */
export async function handleMessage(message: Message, options: HandlerOptions): Promise<void> {
  const { poquan, log } = options;
  if (message.author.bot || message.system || message.webhookId) return;
  const botId = message.client.user.id;
  const isDm = !message.inGuild();
  const repliesToBot = message.mentions.repliedUser?.id === botId;
  if (!isDm && !message.mentions.users.has(botId) && !repliesToBot) return;
  const userKey = userKeyOf('discord', message.author.id);
  const allowed = poquan.access.mayUse({
    platform: 'discord',
    placeId: message.guildId ?? undefined,
    isPrivate: isDm,
    userKey,
  });
  if (options.isStopping() || !allowed) return;
  const channel = message.channel;
  if (!channel.isSendable() || !(await options.claim(`message:${message.id}`))) return;

  const question = questionFromMessage(message, botId);
  const language = question
    ? detectLanguage(question)
    : interfaceLanguage(poquan.config.defaultLanguage, languageOfLocale(message.guild?.preferredLocale));
  const replyTo = repliesToBot ? message.reference?.messageId : undefined;
  const place = { channelId: channel.id, isThread: channel.isThread(), isDm, userId: message.author.id };
  const conversationId = replyTo
    ? await conversationForReply({ store: poquan.store, memory: poquan.memory, log }, replyTo, place)
    : contextConversationId(place);
  const surface = messageSurface(message, channel, options.previewRest);
  try {
    if (!question) {
      await deliverMessages(surface, renderDiscordText(discordPhrases.mentionHint[language]), log);
      return;
    }
    const reply = await askCommand.handler(
      { question },
      { poquan, platform: 'discord', conversationId, userKey, language },
    );
    if (reply.type === 'message' && reply.alreadyTold) {
      log.debug('over the rate limit again; ignored (the user was told once)');
      return;
    }
    if (reply.type === 'message') {
      await deliverMessages(surface, renderDiscordText(reply.text), log);
      return;
    }
    channel.sendTyping().catch((error: unknown) => reportError(log, error, 'typing indicator failed'));
    const { messageIds, done } = await streamAnswer(
      surface,
      reply.question,
      conversationId,
      options,
      message.guildId,
      userKey,
    );
    if (done && !isDm) {
      const answer = { conversationId, askerId: message.author.id, turn: turnOf(reply.question, done) };
      await rememberAnswerMessages(poquan.store, log, messageIds, answer, poquan.config.memory.ttlMs);
    }
  } catch (error) {
    reportError(log, error, 'question failed');
    await deliverMessages(surface, renderDiscordText(describeErrorForUser(error, language)), log);
  }
}
