import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Api } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../core/logger.ts';
import { storeKeys } from '../../core/store-keys.ts';
import type { Admission } from '../../core/work-queue.ts';
import type { HttpRoute } from '../../server/http.ts';
import { startQueueConsumer } from '../shared/queue-consumer.ts';
import type { TelegramBot } from './bot.ts';
import { sequenceKeyOf } from './routing.ts';
import type { TelegramServices } from './services.ts';
import { handleUpdateFully, maxReplayAgeMs, mayReplay, unqueuedAttempt } from './update-handling.ts';

/** The Telegram webhook as one instance serves it. */
export interface TelegramWebhook {
  /** `POST` on the path of `TELEGRAM_WEBHOOK_URL`, mounted on the shared HTTP server. */
  route: HttpRoute;
  /** True until `close`: this instance takes updates, so the load balancer may send it some. */
  isServing(): boolean;
  /**
   * Stops taking updates — later requests get 503, which Telegram retries (through the load balancer, on another
   * instance) — and gives back the queued updates this instance holds but has not started, so another instance
   * answers them at once. Updates already started stay in the bot's hands, where `settle` drains them.
   */
  close(): Promise<void>;
  /** Resolves once every update this instance started is marked answered in the store (call after `settle`). */
  drained(): Promise<void>;
}

/** Where the webhook is served, what it checks, and how long a killed instance holds its updates. */
export interface TelegramWebhookOptions {
  /** The path part of `TELEGRAM_WEBHOOK_URL`. */
  path: string;
  /** `TELEGRAM_WEBHOOK_SECRET`: the `X-Telegram-Bot-Api-Secret-Token` every request must carry. */
  secret: string;
  /** `TELEGRAM_WEBHOOK_LEASE_MS`: after this long without renewal, another instance takes an update over. */
  leaseMs: number;
  log: Logger;
}

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
 * Receives Telegram updates over HTTP for a bot built by `createTelegramBot`, at least once across instances
 * and kills. Each request must carry the secret token (compared in constant time; 401 otherwise). The update is
 * stored in the shared work queue (see `WorkQueue`: a Redis stream read by one consumer group, a SQLite table)
 * before the request is acknowledged (200), and marked answered only once the bot has handled it, so an
 * instance killed mid-answer loses nothing: another instance, or this one restarted, takes it over once its
 * lease (`TELEGRAM_WEBHOOK_LEASE_MS`) runs out. The queue also makes the update id a claim: a redelivery of an
 * answered update, or of one a live instance holds, is acknowledged without a second answer; one whose holder
 * died is answered by whoever takes it over. One conversation's updates are started one after another in the
 * order they arrived, whichever instance holds them. Telegram does not wait for the answer, and holding the
 * request open would make it redeliver slow answers. If the store is down the update is handed to the bot
 * directly, as a possible duplicate beats silence: as the latest attempt there can be (`unqueuedAttempt`), so a
 * copy the store kept after all leaves the chat to it. grammY's `webhookCallback` is not used because it answers
 * the request only after the whole update has been handled.
 * @see https://core.telegram.org/bots/api#setwebhook
 */
export function createTelegramWebhook(
  telegram: TelegramBot,
  services: TelegramServices,
  options: TelegramWebhookOptions,
): TelegramWebhook {
  const { bot } = telegram;
  const { log, leaseMs } = options;
  const expectedSecret = digest(options.secret);
  const queue = services.openQueue(storeKeys.telegramUpdateQueue(bot.botInfo.id), {
    consumer: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    leaseMs,
    retentionMs: maxReplayAgeMs,
  });
  const consumer = startQueueConsumer({
    queue,
    leaseMs,
    log,
    async handle(item, attempts) {
      const update = JSON.parse(item.payload) as Update;
      const updateLog = log.child({ updateId: update.update_id });
      if (attempts > 1) {
        const earlier = { attempts: attempts - 1, receivedAt: item.addedAt };
        if (!mayReplay(update.update_id, earlier, updateLog, Date.now())) return;
        updateLog.info({ attempts }, 'answering an update a stopped instance left unanswered');
      }
      await handleUpdateFully(bot, update, updateLog, { attempt: attempts });
    },
  });
  let serving = true;
  // The tail of the queueing chain: updates are queued in the order they arrived.
  let handOffs: Promise<unknown> = Promise.resolve();

  const secretMatches = (given: string | string[] | undefined) =>
    typeof given === 'string' && timingSafeEqual(digest(given), expectedSecret);

  const accept = (update: Update, body: string) => {
    const updateLog = log.child({ updateId: update.update_id });
    const queueing = handOffs.then(() =>
      queue
        .add({ id: String(update.update_id), group: sequenceKeyOf(update), payload: body })
        .catch((error: unknown): Admission | 'unqueued' => {
          updateLog.warn({ err: error }, 'could not queue the update in the store; handling it anyway');
          return 'unqueued';
        }),
    );
    handOffs = queueing;
    return queueing.then((admission) => {
      if (admission === 'unqueued')
        void handleUpdateFully(bot, update, updateLog, { attempt: unqueuedAttempt });
      else if (admission === 'finished')
        updateLog.info('redelivered update already taken and answered; ignored');
      else if (admission === 'pending') {
        // Its holder answers it; if the holder died, this instance may be the one to take it over.
        updateLog.info('redelivered update already taken; left to its holder');
      }
      if (admission !== 'finished') consumer.wake();
    });
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
        await accept(update, body);
        reply(response, 200);
      },
    },
    isServing: () => serving,
    async close() {
      serving = false;
      await handOffs;
      await consumer.stop();
    },
    drained: () => consumer.drained(),
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
  { log }: { log: Logger },
): Promise<void> {
  try {
    const info = await api.getWebhookInfo();
    if (info.url === url) return;
    log.warn(
      { registered: info.url || 'none' },
      'TELEGRAM_WEBHOOK_URL is not the registered webhook, so no updates will arrive; run `poquan webhook set`',
    );
  } catch (error) {
    log.warn({ err: error }, 'could not read the webhook registration');
  }
}
