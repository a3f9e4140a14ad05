import {
  type ChatInputCommandInteraction,
  DiscordAPIError,
  type Interaction,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  RESTJSONErrorCodes,
} from 'discord.js';
import {
  type CommandContext,
  type CommandReply,
  type CommandSpec,
  describeOptions,
} from '../../../commands/command.ts';
import { findCommand, plainTextCommand } from '../../../commands/index.ts';
import { parseCommandArgs } from '../../../commands/parse-args.ts';
import { userKeyOf } from '../../core/access.ts';
import { catalogFor } from '../../core/catalog/catalog.ts';
import { describeErrorForUser } from '../../core/error-sentences.ts';
import { isRefusal } from '../../core/errors.ts';
import { interfaceLanguage } from '../../core/interface-language.ts';
import type { Logger } from '../../core/logger.ts';
import { languageOf, languageOfLocale, type ReplyLanguage } from '../../core/question.ts';
import { contextConversationId, rememberAnswerMessages, turnOf } from './conversations.ts';
import { type AnswerSurface, deliverMessages, streamAnswer } from './deliver.ts';
import { reportError } from './errors.ts';
import { handleFeedbackButton } from './feedback.ts';
import type { HandlerOptions } from './handler-options.ts';
import { questionFromMessage } from './messages.ts';
import { renderDiscordText } from './render.ts';
import { interactionSurface, unacknowledgedSurface } from './surfaces.ts';

type CommandInteraction = ChatInputCommandInteraction | MessageContextMenuCommandInteraction;

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

/**
 * The command behind an interaction and its raw options: a slash command by name, or "Ask Poquan" on a
 * message, which runs the command that takes plain text with the message's text. Undefined for a command this
 * version doesn't know (a stale registration).
 */
function commandOf(
  interaction: CommandInteraction,
): { spec: CommandSpec; args: Record<string, unknown>; words: string } | undefined {
  if (interaction.isMessageContextMenuCommand()) {
    const { spec, option } = plainTextCommand('discord');
    const text = questionFromMessage(interaction.targetMessage, interaction.client.user.id);
    return { spec, args: { [option]: text }, words: text };
  }
  const spec = findCommand('discord', interaction.commandName);
  if (!spec) return undefined;
  const args = commandArgs(spec, interaction);
  const words = Object.values(args)
    .filter((value) => typeof value === 'string')
    .join(' ');
  return { spec, args, words };
}

/** Runs the command behind an interaction; a command this version doesn't know, or no text to ask about, is told so. */
async function runCommand(
  command: ReturnType<typeof commandOf>,
  interaction: CommandInteraction,
  context: CommandContext,
  /** The asker's interface language: what is wrong with the command itself is said in it. */
  locale: ReplyLanguage,
): Promise<CommandReply> {
  if (!command) return { type: 'message', text: catalogFor(locale).discord.unknownCommand };
  if (interaction.isMessageContextMenuCommand() && !command.words) {
    return { type: 'message', text: catalogFor(locale).discord.noTextInMessage };
  }
  return command.spec.handler(parseCommandArgs(command.spec, command.args, locale), context);
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
 * Defers the reply (ephemerally if asked); false when Discord no longer knows the interaction (10062: the
 * deferral came after its 3-second window, e.g. from a process slowed down or just restarted). The question is
 * then still answered, outside the interaction (see `unacknowledgedSurface`); any other failure throws.
 */
async function acknowledge(
  interaction: CommandInteraction,
  ephemeral: boolean,
  log: Logger,
): Promise<boolean> {
  try {
    await interaction.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
    return true;
  } catch (error) {
    if (!(error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.UnknownInteraction))
      throw error;
    reportError(log, error, 'the interaction could no longer be acknowledged; answering outside it');
    return false;
  }
}

/**
 * Handles slash commands, the "Ask Poquan" message command and the 👍 / 👎 buttons under answers. Commands that
 * stream an answer are deferred at once (publicly, or ephemerally with their `private` option), then streamed;
 * other commands answer ephemerally. Every path ends with a visible message: the one error boundary below turns
 * any failure — a refusal, bad options, the model, Discord — into one sentence, a refusal only to the asker.
 */
export async function handleInteraction(interaction: Interaction, options: HandlerOptions): Promise<void> {
  if (interaction.isButton()) return handleFeedbackButton(interaction, options);
  if (!interaction.isChatInputCommand() && !interaction.isMessageContextMenuCommand()) return;
  if (!(await options.claim(`interaction:${interaction.id}`))) return;
  const { services, log } = options;
  const locale = interfaceLanguage(services.config.defaultLanguage, languageOfLocale(interaction.locale));
  const userKey = userKeyOf('discord', interaction.user.id);
  const allowed = services.access.mayUse({
    platform: 'discord',
    placeId: interaction.guildId ?? undefined,
    isPrivate: !interaction.inGuild(),
    userKey,
  });
  if (options.isStopping() || !allowed) {
    const { discord } = catalogFor(locale);
    const content = allowed ? discord.restarting : discord.notAllowedHere;
    await interaction.reply({ content, flags: MessageFlags.Ephemeral });
    return;
  }

  const command = commandOf(interaction);
  const streams = command?.spec.streams === true;
  const ephemeral = !streams || command?.args.private === true;
  const conversationId = contextConversationId({
    channelId: interaction.channelId ?? interaction.user.id,
    isThread: interaction.channel?.isThread() ?? false,
    isDm: !interaction.inGuild(),
    userId: interaction.user.id,
    // Only a question asked privately lives apart; /sources and /reset act on the public conversation.
    isPrivate: streams && ephemeral,
  });
  const language = languageOf(command?.words ?? '', locale);
  // A question to answer is recorded while the deferral is on its way, not after: a process killed once Discord
  // has the acknowledgement leaves a record the next one finishes, instead of "thinking…" for good.
  const inFlightId = streams && command?.words.trim() ? `interaction:${interaction.id}` : undefined;
  const [deferral] = await Promise.allSettled([
    // Acknowledge first: Discord's 3-second window is the one deadline nothing can make up for later.
    acknowledge(interaction, ephemeral, log),
    inFlightId &&
      options.inFlight.begin({
        id: inFlightId,
        kind: 'interaction',
        startedAt: interaction.createdTimestamp,
        question: command?.words ?? '',
        conversationId,
        language,
        isPrivate: ephemeral,
        channelId: interaction.channelId,
        guildId: interaction.guildId,
        userId: interaction.user.id,
        applicationId: interaction.applicationId,
        token: interaction.token,
      }),
  ]);
  if (deferral.status === 'rejected') {
    if (inFlightId) await options.inFlight.finish(inFlightId);
    throw deferral.reason;
  }
  const acknowledged = deferral.value;
  const webhookSurface = interactionSurface(
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
  const surface = acknowledged ? webhookSurface : unacknowledgedSurface(webhookSurface);
  const tell = (chunks: string[]) =>
    ephemeral || !acknowledged
      ? deliverMessages(surface, chunks, log)
      : tellPrivately(interaction, surface, chunks, log);
  try {
    const reply = await runCommand(
      command,
      interaction,
      {
        services,
        platform: 'discord',
        conversationId,
        userKey,
        turnId: `discord:interaction:${interaction.id}`,
        language,
        signal: options.signal,
        log,
      },
      locale,
    );
    if (reply.type === 'message') {
      await tell(renderDiscordText(reply.text));
      return;
    }
    const { messageIds, done } = await streamAnswer(surface, reply, options, interaction.guildId);
    if (!ephemeral && interaction.inGuild()) {
      const answer = { conversationId, askerId: interaction.user.id, turn: turnOf(done.question, done) };
      await rememberAnswerMessages(services.store, log, messageIds, answer, services.config.memory.ttlMs);
    }
  } catch (error) {
    reportError(log, error, 'command failed');
    const chunks = renderDiscordText(describeErrorForUser(error, language));
    await (isRefusal(error) ? tell(chunks) : deliverMessages(surface, chunks, log));
  } finally {
    if (inFlightId) await options.inFlight.finish(inFlightId);
  }
}
