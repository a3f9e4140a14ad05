import { randomUUID } from 'node:crypto';
import { sequentialize } from '@grammyjs/runner';
import { Bot, type BotError, type Context } from 'grammy';
import type { Message } from 'grammy/types';
import { type CommandSpec, describeOptions } from '../../../commands/command.ts';
import { findCommand, plainTextCommand } from '../../../commands/index.ts';
import { parseCommandArgs } from '../../../commands/parse-args.ts';
import { userKeyOf } from '../../core/access.ts';
import { catalogFor } from '../../core/catalog/catalog.ts';
import { describeErrorForUser } from '../../core/error-sentences.ts';
import { ConfigError, InputError, isRefusal, LlmError, RateLimitedError } from '../../core/errors.ts';
import { interfaceLanguage } from '../../core/interface-language.ts';
import type { Logger } from '../../core/logger.ts';
import { languageOf, languageOfLocale, type ReplyLanguage } from '../../core/question.ts';
import { createWorkInFlight } from '../shared/work-in-flight.ts';
import { retryTelegramCalls } from './api-retries.ts';
import { isChatUnreachable } from './errors.ts';
import { handleFeedbackCallback } from './feedback.ts';
import { createMessageTrail, ReplyTakenOver } from './message-trail.ts';
import { previewRecordFor } from './preview-record.ts';
import { escapeHtml, renderTelegramText } from './render.ts';
import {
  conversationIdFor,
  isAnonymousAdmin,
  replyPlaceFor,
  routeMessage,
  sequenceKeyOf,
} from './routing.ts';
import type { TelegramServices } from './services.ts';
import { type StreamTiming, streamAnswer } from './stream-answer.ts';
import { attemptOf } from './update-handling.ts';

/**
 * Per-update data the adapter keeps on grammY's context: a request id, a logger that carries it, and which
 * attempt at the update this is (see `attemptOf`).
 */
interface RequestFlavor {
  request?: { id: string; log: Logger; attempt: number };
}

/** grammY's context as this adapter uses it. */
export type TelegramContext = Context & RequestFlavor;

/** Tuning for tests and benchmarks; production uses the defaults, which follow Telegram's limits. */
export type TelegramAdapterOptions = Partial<StreamTiming>;

/** A configured bot and the means to stop it gracefully. */
export interface TelegramBot {
  bot: Bot<TelegramContext>;
  /** Waits up to `graceMs` for updates in progress, then cuts remaining answers short and lets them say so. */
  settle(graceMs: number): Promise<void>;
}

const defaultTiming: StreamTiming = {
  privateIntervalMs: 1000,
  groupIntervalMs: 3000,
  messageGapMs: 1000,
  typingIntervalMs: 4000,
};
/** How long an aborted answer gets to deliver its partial text and note once the grace period is over. */
const abortedAnswerMs = 2000;

/** The arguments a command takes from the text after it: its first string option gets all of it. */
function argsFor(spec: CommandSpec, rest: string, language: ReplyLanguage): Record<string, unknown> {
  const field =
    spec.plainTextOption ?? describeOptions(spec).find((option) => option.type === 'string')?.name;
  return parseCommandArgs(spec, field ? { [field]: rest } : {}, language);
}

/** Who is asking, for the per-user rate limit; anonymous group admins count as their group. */
function userKeyFor(message: Message): string {
  return message.from && !isAnonymousAdmin(message)
    ? userKeyOf('telegram', message.from.id)
    : `telegram:chat:${message.sender_chat?.id ?? message.chat.id}`;
}

/** The language of an error sentence for a message: that of its words after any command, else the interface's. */
function languageFor(message: Message, services: TelegramServices): ReplyLanguage {
  return languageOf((message.text ?? '').replace(/^\/\S+/, ''), uiLanguage(message, services));
}

/** Interface texts for a message without words to go by: `DEFAULT_LANGUAGE`, else the user's Telegram language. */
function uiLanguage(message: Message, services: TelegramServices): ReplyLanguage {
  return interfaceLanguage(services.config.defaultLanguage, languageOfLocale(message.from?.language_code));
}

/**
 * Builds the grammY bot: retried API calls (see `retryTelegramCalls`), the chat allowlist, per-chat (and topic)
 * ordering, commands and questions routed through the shared command specs — so the `ask` command's rate limit
 * applies to every question — 👍 / 👎 button presses recorded as feedback, and one error handler that turns any
 * failure into a sentence in the chat and a token-free log line. It does not fetch updates;
 * `startTelegramAdapter` does.
 */
export function createTelegramBot(
  services: TelegramServices,
  options: TelegramAdapterOptions = {},
): TelegramBot {
  const { token, apiRoot } = services.config.telegram;
  if (!token) throw new ConfigError('TELEGRAM_BOT_TOKEN is not set.');
  const log = services.logger.child({ adapter: 'telegram' });
  const timing = { ...defaultTiming, ...options };
  const bot = new Bot<TelegramContext>(token, { client: { apiRoot } });
  bot.api.config.use(retryTelegramCalls());

  const work = createWorkInFlight();
  const track = work.track;
  const drafts = { available: true, nextId: 1 };

  /**
   * Replies to the update's message. The messages an earlier attempt at the same update left (a preview frozen
   * by a kill) are edited into this reply, so a replayed question refused or failed now leaves no "thinking…".
   */
  const reply = async (ctx: TelegramContext, message: Message, requestLog: Logger, html: string[]) => {
    const record = previewRecordFor(services.store, recordedUpdate(ctx), requestLog);
    const trail = createMessageTrail(bot.api, replyPlaceFor(message), requestLog, {
      minGapMs: 0,
      earlier: await record.load(),
      onChange: record.save,
      isCurrent: record.isCurrent,
    });
    await trail.show(html);
    await record.markDelivered();
  };

  const recordedUpdate = (ctx: TelegramContext) => ({
    botId: ctx.me.id,
    updateId: ctx.update.update_id,
    attempt: ctx.request?.attempt ?? 1,
  });

  bot.use(async (ctx, next) => {
    const id = randomUUID().slice(0, 8);
    ctx.request = {
      id,
      log: log.child({ requestId: id, chatId: ctx.chat?.id, updateId: ctx.update.update_id }),
      attempt: attemptOf(ctx.update),
    };
    await track(next());
  });

  bot.use(async (ctx, next) => {
    const allowed = services.access.mayUse({
      platform: 'telegram',
      placeId: ctx.chat?.id,
      isPrivate: ctx.chat?.type === 'private',
      userKey: ctx.from ? userKeyOf('telegram', ctx.from.id) : undefined,
    });
    if (allowed) return next();
    ctx.request?.log.debug('chat not in TELEGRAM_ALLOWED_CHAT_IDS; ignored');
  });

  bot.use(sequentialize((ctx: TelegramContext) => sequenceKeyOf(ctx.update)));

  bot.on('message:text', async (ctx) => {
    const message = ctx.message;
    const requestLog = ctx.request?.log ?? log;
    const incoming = routeMessage(message, ctx.me);
    if (incoming.kind === 'ignore') return requestLog.debug({ reason: incoming.reason }, 'message ignored');
    if (await previewRecordFor(services.store, recordedUpdate(ctx), requestLog).wasDelivered()) {
      // A replay of an update whose reply a killed process had already sent: answering again would repeat it.
      return requestLog.info('update already answered before a restart; not answered again');
    }
    const spec =
      incoming.kind === 'plain' ? plainTextCommand('telegram').spec : findCommand('telegram', incoming.name);
    if (!spec) {
      if (incoming.kind === 'plain' || !incoming.explicit) return;
      const text = catalogFor(uiLanguage(message, services)).errors.unknownCommand(incoming.name);
      return reply(ctx, message, requestLog, [escapeHtml(text)]);
    }
    const words = incoming.kind === 'plain' ? incoming.text : incoming.rest;
    const language = languageOf(words, uiLanguage(message, services));
    const result = await spec.handler(argsFor(spec, words, language), {
      services,
      platform: 'telegram',
      conversationId: conversationIdFor(message),
      userKey: userKeyFor(message),
      turnId: `telegram:${ctx.me.id}:${ctx.update.update_id}`,
      language,
      signal: work.signal,
      log: requestLog,
    });
    if (result.type === 'message') {
      return await reply(ctx, message, requestLog, renderTelegramText(result.text));
    }
    await streamAnswer(
      { api: ctx.api, botId: ctx.me.id, services, log: requestLog, timing, drafts },
      replyPlaceFor(message),
      {
        updateId: ctx.update.update_id,
        attempt: ctx.request?.attempt ?? 1,
        events: result.events,
        language: result.language,
        signal: work.signal,
      },
    );
  });

  bot.on('callback_query:data', (ctx) =>
    handleFeedbackCallback(ctx, { services, log: ctx.request?.log ?? log }),
  );

  bot.catch((botError: BotError<TelegramContext>) => {
    const { ctx, error } = botError;
    const requestLog = ctx.request?.log ?? log;
    if (error instanceof ReplyTakenOver) {
      // This process stalled past its lease and another took the update over: the answer is that one's.
      requestLog.info('a later attempt took the update over; this one stops');
      return;
    }
    if (isChatUnreachable(error)) {
      // Blocked by the user or removed from the group: there is no one to tell, so nothing is sent.
      requestLog.info({ err: error }, 'chat unreachable; update dropped');
      return;
    }
    if (error instanceof RateLimitedError && error.alreadyTold) {
      // One notice per user per window: a group is not flooded with refusals.
      requestLog.debug('over the rate limit again; ignored (the user was told once)');
      return;
    }
    const expected = error instanceof InputError || isRefusal(error);
    const level = expected ? 'info' : error instanceof LlmError ? 'warn' : 'error';
    requestLog[level]({ err: error }, 'update failed');
    const message = ctx.message;
    if (!message) return;
    const sentence = describeErrorForUser(error, languageFor(message, services));
    return track(
      reply(ctx, message, requestLog, [escapeHtml(sentence)]).catch((replyError: unknown) => {
        if (replyError instanceof ReplyTakenOver) return;
        requestLog.error({ err: replyError }, 'could not send the error message');
      }),
    );
  });

  return {
    bot,
    async settle(graceMs) {
      const running = work.size;
      if (!(await work.drain(graceMs, abortedAnswerMs))) {
        log.warn({ running }, 'grace period over; answers still running were cut short');
      }
    },
  };
}
