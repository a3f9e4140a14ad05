import { run } from '@grammyjs/runner';
import { GrammyError, HttpError } from 'grammy';
import { commandsFor } from '../../../commands/index.ts';
import { ConfigError } from '../../core/errors.ts';
import type { Poquan } from '../../poquan.ts';
import { createTelegramBot, type TelegramAdapterOptions } from './bot.ts';
import { describeErrorForLog, redactToken } from './errors.ts';

export { createTelegramBot, type TelegramAdapterOptions, type TelegramBot } from './bot.ts';

/** A started adapter, as the bot process keeps it until shutdown. */
export interface RunningTelegramAdapter {
  name: 'telegram';
  /** Whether updates are being fetched and the latest `getUpdates` succeeded, for readiness checks. */
  isConnected(): boolean;
  /** Stops fetching updates, then waits (up to `graceMs`) for answers in progress. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts the Telegram side of Poquan: checks the token (`getMe`), removes any webhook (long polling and a
 * webhook exclude each other, and the runner does not do it), registers the command menu in English and
 * Chinese from the shared command specs, then long-polls with `@grammyjs/runner`. Throws `ConfigError` when
 * Telegram rejects the token, and a token-free error when the Bot API can't be reached.
 * @see https://grammy.dev/plugins/runner
 */
export async function startTelegramAdapter(
  poquan: Poquan,
  options: TelegramAdapterOptions = {},
): Promise<RunningTelegramAdapter> {
  const { bot, settle } = createTelegramBot(poquan, options);
  const token = poquan.config.telegram.token ?? '';
  const log = poquan.logger.child({ adapter: 'telegram' });
  try {
    // Not bot.init(): it retries network errors forever, and a bot that can't reach Telegram should say so.
    bot.botInfo = await bot.api.getMe();
    await bot.api.deleteWebhook();
  } catch (error) {
    if (error instanceof GrammyError && error.error_code === 401) {
      throw new ConfigError(
        'Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized). Check it with @BotFather.',
      );
    }
    // The original error (and its cause) may quote request URLs, which contain the token.
    const cause = error instanceof HttpError ? error.error : error;
    const reason = redactToken(cause instanceof Error ? cause.message : String(cause), token);
    throw new Error(`Could not reach the Telegram Bot API at ${poquan.config.telegram.apiRoot}: ${reason}`);
  }
  const commands = commandsFor('telegram');
  const registrations = (['en', 'zh'] as const).map((language) =>
    bot.api.setMyCommands(
      commands.map((command) => ({ command: command.name, description: command.description[language] })),
      language === 'zh' ? { language_code: 'zh' } : {},
    ),
  );
  for (const result of await Promise.allSettled(registrations)) {
    if (result.status === 'rejected') {
      log.warn({ error: describeErrorForLog(result.reason, token) }, 'could not register the command menu');
    }
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
        log.warn({ error: describeErrorForLog(error, token) }, 'fetching updates failed');
      }
      throw error;
    }
  });
  const runner = run(bot, {
    runner: { fetch: { timeout: 30, allowed_updates: ['message'] }, silent: true },
  });
  runner.task()?.catch((error: unknown) => {
    log.error({ error: describeErrorForLog(error, token) }, 'fetching updates stopped');
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
