import { cleanContent, type Message } from 'discord.js';
import { plainTextCommand } from '../../../commands/index.ts';
import { userKeyOf } from '../../core/access.ts';
import { catalogFor } from '../../core/catalog/catalog.ts';
import { describeErrorForUser } from '../../core/error-sentences.ts';
import { RateLimitedError } from '../../core/errors.ts';
import { interfaceLanguage } from '../../core/interface-language.ts';
import { languageOf, languageOfLocale } from '../../core/question.ts';
import {
  contextConversationId,
  conversationForReply,
  rememberAnswerMessages,
  turnOf,
} from './conversations.ts';
import { deliverMessages, streamAnswer } from './deliver.ts';
import { reportError } from './errors.ts';
import type { HandlerOptions } from './handler-options.ts';
import { renderDiscordText } from './render.ts';
import { replySurface } from './surfaces.ts';

/**
 * The question in a message: the text without the mention of the bot, other mentions turned into readable
 * names (`<@42>` → `@alice`), surrounding space trimmed. Empty when there is nothing else.
 */
export function questionFromMessage(message: Message, botId: string): string {
  const withoutBot = message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ');
  return cleanContent(withoutBot, message.channel).trim();
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
  const { services, log } = options;
  if (message.author.bot || message.system || message.webhookId) return;
  const botId = message.client.user.id;
  const isDm = !message.inGuild();
  const repliesToBot = message.mentions.repliedUser?.id === botId;
  if (!isDm && !message.mentions.users.has(botId) && !repliesToBot) return;
  const userKey = userKeyOf('discord', message.author.id);
  const allowed = services.access.mayUse({
    platform: 'discord',
    placeId: message.guildId ?? undefined,
    isPrivate: isDm,
    userKey,
  });
  if (options.isStopping() || !allowed) return;
  const channel = message.channel;
  if (!channel.isSendable() || !(await options.claim(`message:${message.id}`))) return;

  const question = questionFromMessage(message, botId);
  const language = languageOf(
    question,
    interfaceLanguage(services.config.defaultLanguage, languageOfLocale(message.guild?.preferredLocale)),
  );
  const replyTo = repliesToBot ? message.reference?.messageId : undefined;
  const place = { channelId: channel.id, isThread: channel.isThread(), isDm, userId: message.author.id };
  const conversationId = replyTo
    ? await conversationForReply({ store: services.store, memory: services.memory, log }, replyTo, place)
    : contextConversationId(place);
  // Set once the reply is a question being answered: from then on a restart would resume it.
  let inFlightId: string | undefined;
  const surface = replySurface(
    message.client.rest,
    options.previewRest,
    { channelId: channel.id, messageId: message.id },
    async (answerMessageId) => {
      if (inFlightId) await options.inFlight.note(inFlightId, { answerMessageId });
    },
  );
  try {
    if (!question) {
      await deliverMessages(surface, renderDiscordText(catalogFor(language).discord.mentionHint), log);
      return;
    }
    const { spec, option } = plainTextCommand('discord');
    const reply = await spec.handler(
      { [option]: question },
      {
        services,
        platform: 'discord',
        conversationId,
        userKey,
        turnId: `discord:message:${message.id}`,
        language,
        signal: options.signal,
        log,
      },
    );
    if (reply.type === 'message') {
      await deliverMessages(surface, renderDiscordText(reply.text), log);
      return;
    }
    // Only now, with the question admitted: a user told once about the rate limit sees nothing at all.
    channel.sendTyping().catch((error: unknown) => reportError(log, error, 'typing indicator failed'));
    inFlightId = `message:${message.id}`;
    await options.inFlight.begin({
      id: inFlightId,
      kind: 'message',
      startedAt: message.createdTimestamp,
      question: reply.question,
      conversationId,
      language: reply.language,
      isPrivate: false,
      channelId: channel.id,
      guildId: message.guildId,
      userId: message.author.id,
      messageId: message.id,
    });
    const { messageIds, done } = await streamAnswer(surface, reply, options, message.guildId);
    if (!isDm) {
      const answer = { conversationId, askerId: message.author.id, turn: turnOf(done.question, done) };
      await rememberAnswerMessages(services.store, log, messageIds, answer, services.config.memory.ttlMs);
    }
  } catch (error) {
    if (error instanceof RateLimitedError && error.alreadyTold) {
      log.debug('over the rate limit again; ignored (the user was told once)');
      return;
    }
    reportError(log, error, 'question failed');
    await deliverMessages(surface, renderDiscordText(describeErrorForUser(error, language)), log);
  } finally {
    if (inFlightId) await options.inFlight.finish(inFlightId);
  }
}
