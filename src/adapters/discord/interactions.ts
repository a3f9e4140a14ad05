import {
  type APIMessage,
  type ChatInputCommandInteraction,
  type Client,
  type Interaction,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  type REST,
  Routes,
} from 'discord.js';
import { askCommand } from '../../../commands/ask.ts';
import { type CommandReply, type CommandSpec, describeOptions } from '../../../commands/command.ts';
import { findCommand } from '../../../commands/index.ts';
import { parseCommandArgs } from '../../../commands/parse-args.ts';
import { userKeyOf } from '../../core/access.ts';
import { describeErrorForUser } from '../../core/errors.ts';
import { interfaceLanguage } from '../../core/interface-language.ts';
import type { Logger } from '../../core/logger.ts';
import { detectLanguage, type ReplyLanguage } from '../../core/question.ts';
import type { Poquan } from '../../poquan.ts';
import { contextConversationId, rememberAnswerMessages, turnOf } from './conversations.ts';
import {
  type AnswerSurface,
  deliverMessages,
  type MessageExtras,
  serializeSurface,
  streamAnswer,
} from './deliver.ts';
import { reportError } from './errors.ts';
import { handleFeedbackButton } from './feedback.ts';
import { type HandlerOptions, questionFromMessage } from './messages.ts';
import { discordPhrases, languageOfLocale } from './phrases.ts';
import { renderDiscordText } from './render.ts';

type CommandInteraction = ChatInputCommandInteraction | MessageContextMenuCommandInteraction;

/**
 * Posts straight to the channel through REST: the fallback when the interaction token no longer works.
 * `allowed_mentions` is spelled out because the Client's default only applies to discord.js's own senders.
 */
async function postToChannel(
  client: Client,
  channelId: string,
  content: string,
  extras: MessageExtras = {},
): Promise<string> {
  const body = {
    content,
    allowed_mentions: extras.allowedMentions ?? { parse: [] },
    ...(extras.components ? { components: extras.components } : {}),
  };
  return ((await client.rest.post(Routes.channelMessages(channelId), { body })) as APIMessage).id;
}

/**
 * The answer to an interaction: the deferred reply, edited while streaming, with follow-ups for the rest.
 * If the token has expired (15 minutes) or the reply is gone, a public answer falls back to a channel
 * message and a private one to a DM, so the asker is never left with "thinking…".
 */
function interactionSurface(
  interaction: CommandInteraction,
  ephemeral: boolean,
  previewRest: REST,
): AnswerSurface {
  return serializeSurface({
    show: async (content, extras) => (await interaction.editReply({ content, ...extras })).id,
    preview: async (content) => {
      await previewRest.patch(Routes.webhookMessage(interaction.applicationId, interaction.token), {
        body: { content, allowed_mentions: { parse: [] } },
        auth: false,
      });
    },
    append: async (content, extras) =>
      (
        await interaction.followUp({
          content,
          ...extras,
          ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
        })
      ).id,
    fallback: async (content, extras) =>
      ephemeral || !interaction.channelId
        ? (await interaction.user.send({ content, ...extras })).id
        : postToChannel(interaction.client, interaction.channelId, content, extras),
  });
}

/**
 * Reads a slash command's options into the plain object its zod schema validates. Values are taken as sent, of
 * whatever type: a command registered earlier with other options can still send them, and the schema, not
 * discord.js's typed getters (which throw), says what is wrong.
 */
function commandArgs(spec: CommandSpec, interaction: ChatInputCommandInteraction): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const option of describeOptions(spec)) {
    const value = interaction.options.get(option.name)?.value;
    if (value !== undefined) args[option.name] = value;
  }
  return args;
}

/** Runs the command behind an interaction; every question goes through `/ask`'s handler (rate limit). */
async function runCommand(
  interaction: CommandInteraction,
  poquan: Poquan,
  conversationId: string,
  locale: ReplyLanguage,
): Promise<CommandReply> {
  const context = {
    poquan,
    platform: 'discord' as const,
    conversationId,
    userKey: userKeyOf('discord', interaction.user.id),
  };
  if (interaction.isMessageContextMenuCommand()) {
    const question = questionFromMessage(interaction.targetMessage, interaction.client.user.id);
    if (!question) return { type: 'message', text: discordPhrases.noTextInMessage[locale] };
    return askCommand.handler({ question }, { ...context, language: detectLanguage(question) });
  }
  const spec = findCommand('discord', interaction.commandName);
  if (!spec) return { type: 'message', text: discordPhrases.unknownCommand[locale] };
  const args = parseCommandArgs(spec, commandArgs(spec, interaction), locale);
  const question = args.question;
  const language = typeof question === 'string' && question.trim() ? detectLanguage(question) : locale;
  return spec.handler(args, { ...context, language });
}

/**
 * Shows a refusal (rate limit, empty question) only to the asker even though the answer was deferred
 * publicly: the public "thinking…" message is deleted and an ephemeral follow-up says why.
 */
async function tellPrivately(
  interaction: CommandInteraction,
  surface: AnswerSurface,
  chunks: string[],
  log: Logger,
): Promise<void> {
  try {
    await interaction.deleteReply();
    for (const content of chunks) await interaction.followUp({ content, flags: MessageFlags.Ephemeral });
  } catch (error) {
    reportError(log, error, 'could not refuse privately; answering in the reply');
    await deliverMessages(surface, chunks, log);
  }
}

/**
 * Handles slash commands, the "Ask Poquan" message command and the 👍 / 👎 buttons under answers. Questions
 * are deferred at once (publicly, or ephemerally with `private:true`), then streamed; other commands answer
 * ephemerally. Every path ends with a visible message, also when the command, the model or Discord fails.
 */
export async function handleInteraction(interaction: Interaction, options: HandlerOptions): Promise<void> {
  if (interaction.isButton()) return handleFeedbackButton(interaction, options);
  if (!interaction.isChatInputCommand() && !interaction.isMessageContextMenuCommand()) return;
  if (!(await options.claim(`interaction:${interaction.id}`))) return;
  const { poquan, log } = options;
  const locale = interfaceLanguage(poquan.config.defaultLanguage, languageOfLocale(interaction.locale));
  const allowed = poquan.access.mayUse({
    platform: 'discord',
    placeId: interaction.guildId ?? undefined,
    isPrivate: !interaction.inGuild(),
    userKey: userKeyOf('discord', interaction.user.id),
  });
  if (options.isStopping() || !allowed) {
    const phrase = allowed ? discordPhrases.restarting : discordPhrases.notAllowedHere;
    await interaction.reply({ content: phrase[locale], flags: MessageFlags.Ephemeral });
    return;
  }

  const asks = interaction.isMessageContextMenuCommand() || interaction.commandName === askCommand.name;
  const ephemeral =
    !asks || (interaction.isChatInputCommand() && interaction.options.get('private')?.value === true);
  // Acknowledge first: Discord's 3-second window is the one deadline nothing can make up for later.
  await interaction.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
  const surface = interactionSurface(interaction, ephemeral, options.previewRest);
  const conversationId = contextConversationId({
    channelId: interaction.channelId ?? interaction.user.id,
    isThread: interaction.channel?.isThread() ?? false,
    isDm: !interaction.inGuild(),
    userId: interaction.user.id,
    // Only a question asked privately lives apart; /sources and /reset act on the public conversation.
    isPrivate: asks && ephemeral,
  });
  try {
    const reply = await runCommand(interaction, poquan, conversationId, locale);
    if (reply.type === 'message') {
      const chunks = renderDiscordText(reply.text);
      await (ephemeral
        ? deliverMessages(surface, chunks, log)
        : tellPrivately(interaction, surface, chunks, log));
      return;
    }
    const { messageIds, done } = await streamAnswer(
      surface,
      reply.question,
      conversationId,
      options,
      interaction.guildId,
      userKeyOf('discord', interaction.user.id),
    );
    if (done && !ephemeral && interaction.inGuild()) {
      const answer = { conversationId, askerId: interaction.user.id, turn: turnOf(reply.question, done) };
      await rememberAnswerMessages(poquan.store, log, messageIds, answer, poquan.config.memory.ttlMs);
    }
  } catch (error) {
    reportError(log, error, 'command failed');
    await deliverMessages(surface, renderDiscordText(describeErrorForUser(error, locale)), log);
  }
}
