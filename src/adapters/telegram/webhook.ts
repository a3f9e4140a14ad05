import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Api, BotError } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../core/logger.ts';
import type { Poquan } from '../../poquan.ts';
import type { HttpRoute } from '../../server/http.ts';
import type { TelegramBot } from './bot.ts';
import { describeErrorForLog, redactToken } from './errors.ts';

/** The Telegram webhook as one instance serves it. */
export interface TelegramWebhook {
  /** `POST` on the path of `TELEGRAM_WEBHOOK_URL`, mounted on the shared HTTP server. */
  route: HttpRoute;
  /** True until `close`: this instance takes updates, so the load balancer may send it some. */
  isServing(): boolean;
  /**
   * Stops taking updates — later requests get 503, which Telegram retries (through the load balancer, on another
   * instance) — and resolves once every update already acknowledged is in the bot's hands, where `settle` drains it.
   */
  close(): Promise<void>;
}

/** Where the webhook is served and what it checks. */
export interface TelegramWebhookOptions {
  /** The path part of `TELEGRAM_WEBHOOK_URL`. */
  path: string;
  /** `TELEGRAM_WEBHOOK_SECRET`: the `X-Telegram-Bot-Api-Secret-Token` every request must carry. */
  secret: string;
  log: Logger;
}

/** Telegram keeps retrying an unacknowledged update for up to a day; a claim outlives that. */
const claimTtlMs = 24 * 3_600_000;
/** An update is a few kilobytes; a body far larger than any update is refused unread. */
const maxBodyBytes = 1024 * 1024;

const digest = (text: string) => createHash('sha256').update(text).digest();

function reply(response: ServerResponse, status: number, error?: string): void {
  if (error === undefined) {
    response.writeHead(status).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify({ error }));
}

/** The request body, or undefined past `maxBodyBytes` (read to the end anyway, so the 413 can be sent). */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= maxBodyBytes) chunks.push(chunk as Buffer);
  }
  return size > maxBodyBytes ? undefined : Buffer.concat(chunks).toString('utf8');
}

function parseUpdate(body: string): Update | undefined {
  try {
    const update = JSON.parse(body) as Partial<Update> | null;
    return update && Number.isSafeInteger(update.update_id) ? (update as Update) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Receives Telegram updates over HTTP for a bot built by `createTelegramBot`. Each request must carry the secret
 * token (compared in constant time; 401 otherwise). The update's id is claimed in the shared store first, so an
 * update Telegram redelivers — to this instance or another — is answered once; if the store is down the update is
 * answered anyway, as a possible duplicate beats silence. The request is acknowledged (200) as soon as the update
 * is handed to the bot, and the answer is written afterwards: Telegram does not wait for it, and holding the
 * request open would make Telegram redeliver slow answers. Updates are handed over in arrival order, so the bot's
 * per-chat sequencing keeps a conversation's messages in order. grammY's `webhookCallback` is not used because it
 * answers the request only after the whole update has been handled.
 * @see https://core.telegram.org/bots/api#setwebhook
 */
export function createTelegramWebhook(
  telegram: TelegramBot,
  poquan: Poquan,
  options: TelegramWebhookOptions,
): TelegramWebhook {
  const { bot } = telegram;
  const { log } = options;
  const token = poquan.config.telegram.token ?? '';
  const expectedSecret = digest(options.secret);
  const claimPrefix = `telegram:${bot.botInfo.id}:update:`;
  let serving = true;
  // The tail of the hand-off queue: each update waits for the one that arrived before it.
  let handOffs: Promise<unknown> = Promise.resolve();

  const secretMatches = (given: string | string[] | undefined) =>
    typeof given === 'string' && timingSafeEqual(digest(given), expectedSecret);

  const dispatch = (update: Update, updateLog: Logger) => {
    // The bot's first middleware tracks the update from here on, so a graceful stop waits for its answer.
    bot
      .handleUpdate(update)
      .catch((error: unknown) => {
        if (error instanceof BotError) return bot.errorHandler(error);
        updateLog.error({ error: describeErrorForLog(error, token) }, 'update failed');
      })
      .catch((error: unknown) => {
        updateLog.error({ error: describeErrorForLog(error, token) }, 'error handler failed');
      });
  };

  const accept = (update: Update) => {
    const updateLog = log.child({ updateId: update.update_id });
    const claimed = poquan.atomic
      .claimOnce(`${claimPrefix}${update.update_id}`, claimTtlMs)
      .catch((error: unknown) => {
        updateLog.warn(
          { error: describeErrorForLog(error, token) },
          'could not claim the update in the store; handling it anyway',
        );
        return true;
      });
    const handOff = Promise.all([handOffs, claimed]).then(([, first]) => {
      if (first) dispatch(update, updateLog);
      else updateLog.info('redelivered update already taken; ignored');
    });
    handOffs = handOff;
    return handOff;
  };

  return {
    route: {
      method: 'POST',
      path: options.path,
      async handler(request, response) {
        if (!serving) return reply(response, 503, 'stopping');
        if (!secretMatches(request.headers['x-telegram-bot-api-secret-token'])) {
          log.warn('webhook request without the right secret token refused');
          return reply(response, 401, 'unauthorized');
        }
        const body = await readBody(request);
        if (body === undefined) return reply(response, 413, 'too large');
        const update = parseUpdate(body);
        if (!update) return reply(response, 400, 'not an update');
        // A stop that began while the body was arriving must not miss this update: refuse it instead.
        if (!serving) return reply(response, 503, 'stopping');
        await accept(update);
        reply(response, 200);
      },
    },
    isServing: () => serving,
    async close() {
      serving = false;
      await handOffs;
    },
  };
}

/**
 * Warns when the webhook Telegram has registered is not `TELEGRAM_WEBHOOK_URL` (none yet, or another deployment's):
 * updates then never reach this instance, and `poquan webhook set` is the fix. Never fails start-up, since the
 * registration belongs to the deployment, not to one instance.
 */
export async function checkWebhookRegistration(
  api: Api,
  url: string,
  { log, token }: { log: Logger; token: string },
): Promise<void> {
  try {
    const info = await api.getWebhookInfo();
    if (info.url === url) return;
    log.warn(
      { registered: info.url ? redactToken(info.url, token) : 'none' },
      'TELEGRAM_WEBHOOK_URL is not the registered webhook, so no updates will arrive; run `poquan webhook set`',
    );
  } catch (error) {
    log.warn({ error: describeErrorForLog(error, token) }, 'could not read the webhook registration');
  }
}
