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
import {
  type CommandContext,
  type CommandReply,
  type CommandSpec,
  describeOptions,
} from '../../../commands/command.ts';
import { findCommand, plainTextCommand } from '../../../commands/index.ts';
import { userKeyOf } from '../../core/access.ts';
import { describeErrorForUser, InputError, isRefusal } from '../../core/errors.ts';
import { interfaceLanguage } from '../../core/interface-language.ts';
import type { Logger } from '../../core/logger.ts';
import { languageOf } from '../../core/question.ts';
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
): Promise<CommandReply> {
  if (!command) return { type: 'message', text: discordPhrases.unknownCommand[context.language] };
  if (interaction.isMessageContextMenuCommand() && !command.words) {
    return { type: 'message', text: discordPhrases.noTextInMessage[context.language] };
  }
  const parsed = command.spec.args.safeParse(command.args);
  if (!parsed.success) throw new InputError(parsed.error.issues.map((issue) => issue.message).join('; '));
  return command.spec.handler(parsed.data, context);
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
 * Handles slash commands, the "Ask Poquan" message command and the 👍 / 👎 buttons under answers. Commands that
 * stream an answer are deferred at once (publicly, or ephemerally with their `private` option), then streamed;
 * other commands answer ephemerally. Every path ends with a visible message: the one error boundary below turns
 * any failure — a refusal, bad options, the model, Discord — into one sentence, a refusal only to the asker.
 */
export async function handleInteraction(interaction: Interaction, options: HandlerOptions): Promise<void> {
  if (interaction.isButton()) return handleFeedbackButton(interaction, options);
  if (!interaction.isChatInputCommand() && !interaction.isMessageContextMenuCommand()) return;
  if (!(await options.claim(`interaction:${interaction.id}`))) return;
  const { poquan, log } = options;
  const locale = interfaceLanguage(poquan.config.defaultLanguage, languageOfLocale(interaction.locale));
  const userKey = userKeyOf('discord', interaction.user.id);
  const allowed = poquan.access.mayUse({
    platform: 'discord',
    placeId: interaction.guildId ?? undefined,
    isPrivate: !interaction.inGuild(),
    userKey,
  });
  if (options.isStopping() || !allowed) {
    const phrase = allowed ? discordPhrases.restarting : discordPhrases.notAllowedHere;
    await interaction.reply({ content: phrase[locale], flags: MessageFlags.Ephemeral });
    return;
  }

  const command = commandOf(interaction);
  const streams = command?.spec.streams === true;
  const ephemeral = !streams || command?.args.private === true;
  // Acknowledge first: Discord's 3-second window is the one deadline nothing can make up for later.
  await interaction.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
  const surface = interactionSurface(interaction, ephemeral, options.previewRest);
  const conversationId = contextConversationId({
    channelId: interaction.channelId ?? interaction.user.id,
    isThread: interaction.channel?.isThread() ?? false,
    isDm: !interaction.inGuild(),
    userId: interaction.user.id,
    // Only a question asked privately lives apart; /sources and /reset act on the public conversation.
    isPrivate: streams && ephemeral,
  });
  const language = languageOf(command?.words ?? '', locale);
  const tell = (chunks: string[]) =>
    ephemeral ? deliverMessages(surface, chunks, log) : tellPrivately(interaction, surface, chunks, log);
  try {
    const reply = await runCommand(command, interaction, {
      poquan,
      platform: 'discord',
      conversationId,
      userKey,
      language,
      signal: options.signal,
      log,
    });
    if (reply.type === 'message') {
      await tell(renderDiscordText(reply.text));
      return;
    }
    const { messageIds, done } = await streamAnswer(surface, reply, options, interaction.guildId);
    if (!ephemeral && interaction.inGuild()) {
      const answer = { conversationId, askerId: interaction.user.id, turn: turnOf(done.question, done) };
      await rememberAnswerMessages(poquan.store, log, messageIds, answer, poquan.config.memory.ttlMs);
    }
  } catch (error) {
    reportError(log, error, 'command failed');
    const chunks = renderDiscordText(describeErrorForUser(error, language));
    await (isRefusal(error) ? tell(chunks) : deliverMessages(surface, chunks, log));
  }
}
