import { type REST, Routes } from 'discord.js';
import { plainTextCommand } from '../../../commands/index.ts';
import { userKeyOf } from '../../core/access.ts';
import { catalogFor } from '../../core/catalog/catalog.ts';
import { describeErrorForUser } from '../../core/error-sentences.ts';
import { rememberAnswerMessages, turnOf } from './conversations.ts';
import { type AnswerSurface, deliverMessages, type StreamOptions, streamAnswer } from './deliver.ts';
import { reportError } from './errors.ts';
import { type InFlightAnswer, type InFlightAnswers, interactionTokenMs } from './in-flight.ts';
import { renderDiscordText } from './render.ts';
import { interactionSurface, replySurface } from './surfaces.ts';

/** What resuming needs besides streaming: the Client's REST, the registry, and a clock. */
export interface ResumeOptions extends StreamOptions {
  rest: REST;
  inFlight: InFlightAnswers;
  now?: () => number;
}

/**
 * An answer is resumed only with this much of its token's lifetime left, time enough to answer through the
 * interaction's webhook. Later, it is ended with a sentence while the token still lets us edit the reply.
 */
const timeToAnswerMs = 60_000;

function surfaceOf(record: InFlightAnswer, options: ResumeOptions): AnswerSurface {
  if (record.kind === 'interaction') {
    return interactionSurface(options.rest, options.previewRest, {
      applicationId: record.applicationId as string,
      token: record.token as string,
      channelId: record.channelId,
      userId: record.userId,
      ephemeral: record.isPrivate,
    });
  }
  return replySurface(options.rest, options.previewRest, {
    channelId: record.channelId as string,
    messageId: record.messageId as string,
    ...(record.answerMessageId ? { answerId: record.answerMessageId } : {}),
  });
}

/**
 * Ends an answer that is too old to give with a visible sentence where Discord still allows one: a reply to a
 * message is edited (or, if it is gone, replaced); an interaction's reply is edited through its webhook while
 * the token lives, and afterwards (or when the token could not be unsealed), if it was public, as the bot's own
 * channel message. An expired private (ephemeral) reply can't be reached by anything: that is logged.
 */
async function endInterrupted(record: InFlightAnswer, options: ResumeOptions, ageMs: number) {
  const { log } = options;
  const sentence = catalogFor(record.language).discord.interruptedByRestart;
  if (record.kind === 'message' || (record.token !== undefined && ageMs < interactionTokenMs)) {
    const delivered = await deliverMessages(surfaceOf(record, options), [sentence], log);
    if (delivered.length > 0) return;
  } else if (!record.isPrivate && record.channelId && record.answerMessageId) {
    try {
      await options.rest.patch(Routes.channelMessage(record.channelId, record.answerMessageId), {
        body: { content: sentence, allowed_mentions: { parse: [] } },
      });
      return;
    } catch (error) {
      reportError(log, error, 'could not edit the interrupted reply in its channel');
    }
  }
  log.warn(
    { answerId: record.id, ageMs, private: record.isPrivate },
    'an interrupted answer can no longer be reached: its interaction token has expired or cannot be unsealed',
  );
}

/**
 * Finishes an answer that a stopped instance left unfinished (see `InFlightAnswers.takeOrphans`): answered
 * again in the same conversation (a private question in its own private conversation) with the frozen preview
 * replaced by the real answer, or, when its token has too little time left or could not be unsealed (sealed
 * under another bot token), ended with a sentence. The record is removed afterwards; never throws.
 */
export async function resumeAnswer(record: InFlightAnswer, options: ResumeOptions): Promise<void> {
  const { log, services } = options;
  const ageMs = (options.now ?? Date.now)() - record.startedAt;
  const tokenLost = record.kind === 'interaction' && record.token === undefined;
  try {
    if (tokenLost || ageMs > interactionTokenMs - timeToAnswerMs) {
      log.info(
        { answerId: record.id, ageMs, tokenLost },
        'ending an interrupted answer that is too old to give',
      );
      await endInterrupted(record, options, ageMs);
      return;
    }
    log.info({ answerId: record.id, ageMs }, 'resuming an answer a stopped process left unfinished');
    const { spec, option } = plainTextCommand('discord');
    const reply = await spec.handler(
      { [option]: record.question },
      {
        services,
        platform: 'discord',
        conversationId: record.conversationId,
        userKey: userKeyOf('discord', record.userId),
        // The turn the stopped process admitted (`interaction:<id>` / `message:<id>`): not admitted again.
        turnId: `discord:${record.id}`,
        language: record.language,
        signal: options.signal,
        log,
      },
    );
    const surface = surfaceOf(record, options);
    if (reply.type === 'message') {
      await deliverMessages(surface, renderDiscordText(reply.text), log);
      return;
    }
    const { messageIds, done } = await streamAnswer(surface, reply, options, record.guildId);
    if (!record.isPrivate && record.guildId) {
      const answer = {
        conversationId: record.conversationId,
        askerId: record.userId,
        turn: turnOf(done.question, done),
      };
      await rememberAnswerMessages(services.store, log, messageIds, answer, services.config.memory.ttlMs);
    }
  } catch (error) {
    // Refused, or the model failed before any text: the frozen preview gives way to the sentence saying so.
    reportError(log, error, 'resuming the answer failed');
    const sentence = renderDiscordText(describeErrorForUser(error, record.language));
    await deliverMessages(surfaceOf(record, options), sentence, log);
  } finally {
    await options.inFlight.finish(record.id);
  }
}
