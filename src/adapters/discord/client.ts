import { once } from 'node:events';
import {
  Client,
  type ClientOptions,
  DiscordAPIError,
  DiscordjsErrorCodes,
  Events,
  GatewayIntentBits,
  Partials,
} from 'discord.js';
import { ConfigError, StartupError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { storeKeys } from '../../core/store-keys.ts';
import { createWorkInFlight } from '../shared/work-in-flight.ts';
import { createPreviewRest } from './deliver.ts';
import { reportError } from './errors.ts';
import type { HandlerOptions } from './handler-options.ts';
import { createInFlightAnswers, ownerLeaseMs } from './in-flight.ts';
import { handleInteraction } from './interactions.ts';
import { handleMessage } from './messages.ts';
import { resumeAnswer } from './resume.ts';
import type { DiscordServices } from './services.ts';
import { createTokenSeal } from './token-seal.ts';

/** A Discord bot built around one discord.js Client; `start` connects, `stop` drains and disconnects. */
export interface DiscordBot {
  client: Client;
  /** Logs in and resolves once the gateway session is ready (guilds received). */
  start(): Promise<void>;
  /** Turns new questions away, waits up to `graceMs` for answers in flight, then disconnects. */
  stop(graceMs: number): Promise<void>;
}

/** Tuning that tests and benchmarks change; production uses the defaults. */
export interface DiscordBotOptions {
  /** Minimum time between live edits of one answer; Discord tolerates about one per second. */
  editIntervalMs?: number;
}

/** How long a handled event stays claimed: an interaction token's whole lifetime. */
const claimTtlMs = 15 * 60_000;

/**
 * How often this instance renews its lease and looks for answers a stopped instance left unfinished: a few
 * times per lease, so a live instance never looks gone, and a dead one's answers resume soon after its lease ends.
 */
const leaseRenewalMs = ownerLeaseMs / 3;

/**
 * Why logging in failed, naming the setting to fix: discord.js reports a token Discord answered 401 as
 * `TokenInvalid`. Neither error message holds the token.
 */
function startFailure(error: unknown, apiBase: string): Error {
  const code = (error as { code?: unknown })?.code;
  if (
    code === DiscordjsErrorCodes.TokenInvalid ||
    (error instanceof DiscordAPIError && error.status === 401)
  ) {
    return new ConfigError(
      'Discord rejected DISCORD_TOKEN at start (401 Unauthorized). Check the bot token in the Developer Portal (your application → Bot → Reset Token).',
    );
  }
  return new StartupError(
    `Could not connect to Discord at start (DISCORD_API_BASE ${apiBase}): ${(error as Error)?.message ?? error}`,
  );
}

/**
 * discord.js's own internal sharding: one gateway connection per shard this process runs (`shardIds`, else all
 * of them), so those shards share one store connection, index and metrics registry. Not `ShardingManager`, which
 * would start a whole Poquan per shard (each with its own Telegram adapter and HTTP port). Several instances split
 * the shards by each running some ids of the same `shards` total. A guild's events arrive on shard
 * `(guild_id >> 22) % shardCount` and DMs on shard 0, but any shard can answer any conversation: its state is in
 * the shared store.
 * @see https://discord.com/developers/docs/events/gateway#sharding
 */
export function shardingOptions(
  shards: 'auto' | number,
  shardIds?: number[],
): Pick<ClientOptions, 'shards' | 'shardCount'> {
  if (shards === 'auto') return { shards: 'auto' };
  return { shards: shardIds ?? Array.from({ length: shards }, (_, id) => id), shardCount: shards };
}

/**
 * Builds the Discord client: only the `Guilds`, `GuildMessages` and `DirectMessages` intents (no
 * privileged Message Content — see `handleMessage` for what that means), `Partials.Channel` so DMs arrive,
 * `allowedMentions: { parse: [] }` on every message it sends, and REST (and through `/gateway/bot` the
 * gateway) at `DISCORD_API_BASE`. Each interaction and message is handled independently and tracked, so
 * `stop` can wait for the answers in flight.
 */
export function createDiscordClient(services: DiscordServices, options: DiscordBotOptions = {}): DiscordBot {
  const { token } = services.config.discord;
  if (!token) throw new ConfigError('The Discord adapter needs DISCORD_TOKEN.');
  const log: Logger = services.logger.child({ platform: 'discord' });
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages],
    partials: [Partials.Channel],
    allowedMentions: { parse: [], repliedUser: false },
    // Answer a question even if it was deleted meanwhile, instead of failing the reply.
    failIfNotExists: false,
    rest: { api: services.config.discord.apiBase },
    // SHARD_COUNT and SHARD_IDS: discord.js runs these shards in this process ('auto': Discord's recommendation).
    ...shardingOptions(services.config.discord.shards, services.config.discord.shardIds),
  });
  const previewRest = createPreviewRest(services.config.discord.apiBase, token);
  const answersInFlight = createInFlightAnswers({ store: services.store, log, seal: createTokenSeal(token) });
  const work = createWorkInFlight();
  let stopping = false;
  let stopped: Promise<void> | undefined;

  const handlerOptions = (requestLog: Logger): HandlerOptions => ({
    services,
    log: requestLog,
    editIntervalMs: options.editIntervalMs ?? 1000,
    previewRest,
    signal: work.signal,
    isStopping: () => stopping,
    inFlight: answersInFlight,
    async claim(eventKey) {
      try {
        return await services.store.claimOnce(storeKeys.discordEventClaim(eventKey), claimTtlMs);
      } catch (error) {
        reportError(requestLog, error, 'could not claim the event; handling it anyway');
        return true;
      }
    },
  });
  const track = (kind: string, id: string, handle: (options: HandlerOptions) => Promise<void>) => {
    const requestLog = log.child({ requestId: id, kind });
    void work.track(
      handle(handlerOptions(requestLog)).catch((error: unknown) =>
        reportError(requestLog, error, `${kind} failed`),
      ),
    );
  };

  let looking = false;
  /** Takes over the answers stopped instances left unfinished, each answered like a new event. */
  const resumeOrphans = async () => {
    if (looking || stopping || !client.isReady()) return;
    looking = true;
    try {
      for (const record of await answersInFlight.takeOrphans()) {
        track('resume', record.id, (handler) =>
          resumeAnswer(record, { ...handler, rest: client.rest, inFlight: answersInFlight }),
        );
      }
    } catch (error) {
      reportError(log, error, 'could not look for unfinished answers; trying again shortly');
    } finally {
      looking = false;
    }
  };
  let leaseTimer: NodeJS.Timeout | undefined;

  client.on(Events.InteractionCreate, (interaction) => {
    track('interaction', interaction.id, (handler) => handleInteraction(interaction, handler));
  });
  client.on(Events.MessageCreate, (message) => {
    if (message.author.bot) return;
    track('message', message.id, (handler) => handleMessage(message, handler));
  });
  client.on(Events.Error, (error) => reportError(log, error, 'discord client error'));
  client.on(Events.Warn, (message) => log.warn({ message }, 'discord.js warning'));
  client.on(Events.ShardDisconnect, (event, shardId) =>
    log.error({ code: event.code, shardId }, 'gateway connection closed for good'),
  );

  return {
    client,
    async start() {
      const ready = once(client, Events.ClientReady);
      // The lease comes first: no instance may take this one's answers for orphans.
      await answersInFlight.renewLease();
      leaseTimer = setInterval(() => {
        void answersInFlight.renewLease().then(resumeOrphans);
      }, leaseRenewalMs);
      // Never what keeps the process alive: `stop` clears it, and a process that is exiting anyway needs no lease.
      leaseTimer.unref();
      try {
        await client.login(token);
        await ready;
      } catch (error) {
        clearInterval(leaseTimer);
        await client.destroy();
        throw startFailure(error, services.config.discord.apiBase);
      }
      log.info(
        { user: client.user?.tag, guilds: client.guilds.cache.size, shards: client.options.shards },
        'discord adapter ready',
      );
      void resumeOrphans();
    },
    stop(graceMs) {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(leaseTimer);
        const running = work.size;
        if (!(await work.drain(graceMs, Math.min(graceMs, 2000)))) {
          log.warn({ running }, 'grace period over; answers still running were cut short');
        }
        await client.destroy();
        previewRest.clearHashSweeper();
        previewRest.clearHandlerSweeper();
        log.info('discord adapter stopped');
      })();
      return stopped;
    },
  };
}
