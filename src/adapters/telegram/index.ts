import { GrammyError, HttpError } from 'grammy';
import { describeCommand } from '../../../commands/command.ts';
import { commandsFor } from '../../../commands/index.ts';
import { ConfigError, StartupError } from '../../core/errors.ts';
import type { HttpRoute } from '../../server/http.ts';
import { createTelegramBot, type TelegramAdapterOptions } from './bot.ts';
import { createUpdateInbox, startDurablePolling } from './durable-polling.ts';
import { redactToken } from './errors.ts';
import type { TelegramServices } from './services.ts';
import { telegramUpdateTypes } from './update-types.ts';
import { checkWebhookRegistration, createTelegramWebhook } from './webhook.ts';

export type { TelegramAdapterOptions } from './bot.ts';

/** A started adapter, as the bot process keeps it until shutdown. */
export interface RunningTelegramAdapter {
  name: 'telegram';
  /**
   * For readiness checks. Long polling: updates are being fetched and the latest `getUpdates` succeeded.
   * Webhook: this instance serves the webhook and is not stopping.
   */
  isConnected(): boolean;
  /** Stops taking updates (ends polling, or answers webhooks 503), then waits up to `graceMs` for answers. */
  stop(graceMs: number): Promise<void>;
  /** In webhook mode, the webhook route for the shared HTTP server. */
  routes?: HttpRoute[];
}

/**
 * Starts the Telegram side of Poquan: checks the token (`getMe`), removes any webhook (long polling and a
 * webhook exclude each other, and the runner does not do it), registers the command menu in English and
 * Chinese from the shared command specs, then long-polls with `@grammyjs/runner`. With `TELEGRAM_WEBHOOK_URL`
 * it neither removes the webhook nor polls: it returns the webhook route for the HTTP server instead (see
 * `createTelegramWebhook`). Throws `ConfigError` when Telegram rejects the token or a webhook has no `PORT` to be
 * served on, and a token-free error when the Bot API can't be reached.
 * @see https://grammy.dev/plugins/runner
 */
export async function startTelegramAdapter(
  services: TelegramServices,
  options: TelegramAdapterOptions = {},
): Promise<RunningTelegramAdapter> {
  const { bot, settle } = createTelegramBot(services, options);
  const token = services.config.telegram.token ?? '';
  const log = services.logger.child({ adapter: 'telegram' });
  const webhookSettings = services.config.telegram.webhook;
  if (webhookSettings && !services.config.http) {
    throw new ConfigError(
      'TELEGRAM_WEBHOOK_URL is set but PORT is not: webhooks are received by the HTTP server, so set PORT (e.g. 8080).',
    );
  }
  try {
    // Not bot.init(): it retries network errors forever, and a bot that can't reach Telegram should say so.
    bot.botInfo = await bot.api.getMe();
    // A webhook is the deployment's registration (`poquan webhook set`); only long polling must remove it.
    if (!webhookSettings) await bot.api.deleteWebhook();
  } catch (error) {
    // 401: a wrong or revoked token; 404: a string that is not shaped like a token at all.
    if (error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404)) {
      throw new ConfigError(
        `Telegram rejected TELEGRAM_BOT_TOKEN at start (${error.error_code} ${error.description}). Check the token with @BotFather (/mybots → API Token).`,
      );
    }
    // The original error (and its cause) may quote request URLs, which contain the token.
    const cause = error instanceof HttpError ? error.error : error;
    const reason = redactToken(cause instanceof Error ? cause.message : String(cause), token);
    throw new StartupError(
      `Could not reach the Telegram Bot API at start (TELEGRAM_API_ROOT ${services.config.telegram.apiRoot}): ${reason}`,
    );
  }
  // Operator commands work when typed, but the menu everyone sees leaves them out.
  const commands = commandsFor('telegram').filter((command) => !command.operatorOnly);
  const registrations = (['en', 'zh'] as const).map((language) =>
    bot.api.setMyCommands(
      commands.map((command) => ({
        command: command.name,
        description: describeCommand(command, services.topic())[language],
      })),
      language === 'zh' ? { language_code: 'zh' } : {},
    ),
  );
  for (const result of await Promise.allSettled(registrations)) {
    if (result.status === 'rejected') {
      log.warn({ err: result.reason }, 'could not register the command menu');
    }
  }

  if (webhookSettings) {
    const webhook = createTelegramWebhook({ bot, settle }, services, { ...webhookSettings, log });
    await checkWebhookRegistration(bot.api, webhookSettings.url, { log });
    log.info({ username: bot.botInfo.username, mode: 'webhook' }, 'telegram adapter started');
    return {
      name: 'telegram',
      routes: [webhook.route],
      isConnected: webhook.isServing,
      async stop(graceMs) {
        await webhook.close();
        await settle(graceMs);
        await webhook.drained();
        log.info('telegram adapter stopped');
      },
    };
  }

  // The runner retries failed polls silently; this keeps one log line per failure and the connection state.
  let polling = true;
  bot.api.config.use(async (previous, method, payload, signal) => {
    if (method !== 'getUpdates') return previous(method, payload, signal);
    try {
      const result = await previous(method, payload, signal);
      polling = result.ok;
      if (!result.ok) {
        log.warn(
          { error_code: result.error_code, description: result.description },
          'fetching updates failed',
        );
      }
      return result;
    } catch (error) {
      if (!signal?.aborted) {
        polling = false;
        log.warn({ err: error }, 'fetching updates failed');
      }
      throw error;
    }
  });
  // Updates are kept in the store until handled, so a crash mid-answer loses none (see durable-polling.ts).
  const runner = await startDurablePolling(bot, {
    inbox: createUpdateInbox(services.store, log),
    // callback_query: presses on the 👍 / 👎 buttons under answers.
    fetch: { timeout: 30, allowed_updates: telegramUpdateTypes },
    log,
  });
  runner.task()?.catch((error: unknown) => {
    log.error({ err: error }, 'fetching updates stopped');
  });
  log.info({ username: bot.botInfo.username }, 'telegram adapter started');

  return {
    name: 'telegram',
    isConnected: () => runner.isRunning() && polling,
    async stop(graceMs) {
      if (runner.isRunning()) await runner.stop();
      await settle(graceMs);
      log.info('telegram adapter stopped');
    },
  };
}
