import { createPoquan } from './composition-root.ts';
import { type Config, secretsOf } from './core/config.ts';
import { createLogger } from './logging/logger.ts';
import { type HttpRoute, type RunningHttpServer, startHttpServer } from './server/http.ts';

/** A started platform adapter; `stop` stops taking new work and waits (bounded) for answers in flight. */
export interface RunningAdapter {
  name: string;
  /** Whether the platform connection is up, for `/readyz`. */
  isConnected(): boolean;
  stop(graceMs: number): Promise<void>;
  /** Routes the adapter serves on the HTTP server, e.g. the Telegram webhook. */
  routes?: HttpRoute[];
}

/** What shutdown may take beyond SHUTDOWN_GRACE_MS: cutting answers short, closing connections, the store. */
const shutdownSlackMs = 5000;

/**
 * Starts every adapter whose token is set, says which ones started, serves /healthz, /readyz, /metrics (and
 * the Telegram webhook) when PORT is set, reloads knowledge on change, and stops gracefully on SIGINT/SIGTERM: no new updates,
 * answers in flight finish within SHUTDOWN_GRACE_MS, the store is flushed, and the process exits (0 after a clean
 * stop) within SHUTDOWN_GRACE_MS plus a few seconds whatever state the platforms, the model and the store are in.
 */
export async function startBot(config: Config): Promise<void> {
  // Listening from the first moment: a signal during start-up is kept and honoured once the adapters are up,
  // instead of killing the process half-started.
  let onSignal = (signal: string) => {
    requested = signal;
  };
  let requested: string | undefined;
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const logger = createLogger(config.logLevel ?? 'info', 2, secretsOf(config));
  const poquan = await createPoquan(config, logger);
  const running: RunningAdapter[] = [];
  const stopWatching = poquan.watchKnowledge();

  try {
    if (config.telegram.token) {
      const { startTelegramAdapter } = await import('./adapters/telegram/index.ts');
      running.push(await startTelegramAdapter(poquan));
    }
    if (config.discord.token) {
      // discord.js also reads SHARD_COUNT from the environment and can't parse `auto`; it gets the validated value.
      delete process.env.SHARD_COUNT;
      const { startDiscordAdapter } = await import('./adapters/discord/index.ts');
      running.push(await startDiscordAdapter(poquan));
    }
  } catch (error) {
    await Promise.allSettled(running.map((adapter) => adapter.stop(0)));
    stopWatching();
    await poquan.close();
    throw error;
  }

  if (running.length === 0) {
    stopWatching();
    await poquan.close();
    process.stderr.write(
      [
        'No bot token is set, so no adapter started.',
        '  Telegram: set TELEGRAM_BOT_TOKEN (from @BotFather).',
        '  Discord:  set DISCORD_TOKEN (and DISCORD_APPLICATION_ID to deploy its commands).',
        'To try Poquan without a bot: npx poquan ask "Who founded DeepSeek?"  or  npx poquan chat',
        '',
      ].join('\n'),
    );
    process.exitCode = 1;
    return;
  }
  process.stderr.write(`Poquan started: ${running.map((adapter) => adapter.name).join(', ')}.\n`);

  let http: RunningHttpServer | undefined;
  if (config.http) {
    try {
      http = await startHttpServer({
        port: config.http.port,
        host: config.http.host,
        services: poquan,
        logger,
        routes: running.flatMap((adapter) => adapter.routes ?? []),
        checks: running.map((adapter) => ({
          name: adapter.name,
          check: async () => {
            if (!adapter.isConnected()) throw new Error(`${adapter.name} is not connected`);
          },
        })),
      });
    } catch (error) {
      // A port in use must end the process, not leave the adapters running without their webhook or probes.
      await Promise.allSettled(running.map((adapter) => adapter.stop(0)));
      stopWatching();
      await poquan.close();
      throw error;
    }
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // A platform or store that stops answering must not keep the process alive past its grace period.
    const overdue = setTimeout(() => {
      logger.error({ graceMs: config.shutdownGraceMs }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + shutdownSlackMs);
    stopWatching();
    await Promise.allSettled(running.map((adapter) => adapter.stop(config.shutdownGraceMs)));
    await http?.close();
    await poquan.close();
    clearTimeout(overdue);
    logger.info('stopped');
    // Everything is drained and closed; a client library's leftover timer or socket must not keep us running.
    process.exit(process.exitCode ?? 0);
  };
  onSignal = (signal) => void stop(signal);
  if (requested) onSignal(requested);
}
