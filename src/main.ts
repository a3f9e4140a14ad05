import type { Config } from './core/config.ts';
import { createLogger } from './core/logger.ts';
import { createPoquan } from './poquan.ts';

/** A started platform adapter; `stop` stops taking new work and waits (bounded) for answers in flight. */
export interface RunningAdapter {
  name: string;
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts every adapter whose token is set, says which ones started, and stops them gracefully on
 * SIGINT/SIGTERM: no new updates, answers in flight finish within SHUTDOWN_GRACE_MS, the store is flushed.
 */
export async function startBot(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel ?? 'info');
  const poquan = await createPoquan(config, logger);
  const running: RunningAdapter[] = [];

  if (running.length === 0) {
    await poquan.close();
    process.stderr.write(
      [
        'No bot token is set, so no adapter started.',
        '  Telegram: set TELEGRAM_BOT_TOKEN (from @BotFather).',
        '  Discord:  set DISCORD_TOKEN and DISCORD_APPLICATION_ID.',
        'To try Poquan without a bot: npx poquan ask "Who founded DeepSeek?"  or  npx poquan chat',
        '',
      ].join('\n'),
    );
    process.exitCode = 1;
    return;
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await Promise.allSettled(running.map((adapter) => adapter.stop(config.shutdownGraceMs)));
    await poquan.close();
    logger.info('stopped');
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
