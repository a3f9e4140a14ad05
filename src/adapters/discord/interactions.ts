import {
  type ChatInputCommandInteraction,
  type Interaction,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
} from 'discord.js';
import { askCommand } from '../../../commands/ask.ts';
import { type CommandReply, type CommandSpec, describeOptions } from '../../../commands/command.ts';
import { findCommand } from '../../../commands/index.ts';
import { userKeyOf } from '../../core/access.ts';
import { describeErrorForUser, InputError } from '../../core/errors.ts';
import { interfaceLanguage } from '../../core/interface-language.ts';
import type { Logger } from '../../core/logger.ts';
import { detectLanguage, type ReplyLanguage } from '../../core/question.ts';
import type { Poquan } from '../../poquan.ts';
import { contextConversationId, rememberAnswerMessages, turnOf } from './conversations.ts';
import { type AnswerSurface, deliverMessages, streamAnswer } from './deliver.ts';
import { reportError } from './errors.ts';
import { handleFeedbackButton } from './feedback.ts';
import { type HandlerOptions, questionFromMessage } from './messages.ts';
import { discordPhrases, languageOfLocale } from './phrases.ts';
import { renderDiscordText } from './render.ts';
import { interactionSurface } from './surfaces.ts';

type CommandInteraction = ChatInputCommandInteraction | MessageContextMenuCommandInteraction;

/** Reads a slash command's options into the plain object its zod schema validates. */
function commandArgs(spec: CommandSpec, interaction: ChatInputCommandInteraction): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const option of describeOptions(spec)) {
    const value =
      option.type === 'boolean'
        ? interaction.options.getBoolean(option.name)
        : interaction.options.getString(option.name);
    if (value !== null) args[option.name] = value;
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
  const parsed = spec.args.safeParse(commandArgs(spec, interaction));
  if (!parsed.success) throw new InputError(parsed.error.issues.map((issue) => issue.message).join('; '));
  const question = parsed.data.question;
  const language = typeof question === 'string' && question.trim() ? detectLanguage(question) : locale;
  return spec.handler(parsed.data, { ...context, language });
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
    !asks || (interaction.isChatInputCommand() && interaction.options.getBoolean('private') === true);
  // Acknowledge first: Discord's 3-second window is the one deadline nothing can make up for later.
  await interaction.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
  // Set once the reply is a question being answered: from then on a restart would resume it.
  let inFlightId: string | undefined;
  const surface = interactionSurface(
    interaction.client.rest,
    options.previewRest,
    {
      applicationId: interaction.applicationId,
      token: interaction.token,
      channelId: interaction.channelId,
      userId: interaction.user.id,
      ephemeral,
    },
    async (answerMessageId) => {
      if (inFlightId) await options.inFlight.note(inFlightId, { answerMessageId });
    },
  );
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
    inFlightId = `interaction:${interaction.id}`;
    await options.inFlight.begin({
      id: inFlightId,
      kind: 'interaction',
      startedAt: interaction.createdTimestamp,
      question: reply.question,
      conversationId,
      language: detectLanguage(reply.question),
      isPrivate: ephemeral,
      channelId: interaction.channelId,
      guildId: interaction.guildId,
      userId: interaction.user.id,
      applicationId: interaction.applicationId,
      token: interaction.token,
    });
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
  } finally {
    if (inFlightId) await options.inFlight.finish(inFlightId);
  }
}
