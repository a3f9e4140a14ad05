import { Status } from 'discord.js';
import { createDiscordClient } from './client.ts';
import type { DiscordServices } from './services.ts';

export { deployDiscordCommands } from './deploy.ts';

/**
 * Starts the Discord adapter for `npm start` (needs DISCORD_TOKEN; DISCORD_APPLICATION_ID is only needed
 * to deploy commands). Resolves once connected; `isConnected` is false while any shard's gateway connection is
 * down (for `/readyz`); `stop` drains answers in flight within `graceMs`.
 */
export async function startDiscordAdapter(
  services: DiscordServices,
): Promise<{ name: 'discord'; isConnected(): boolean; stop(graceMs: number): Promise<void> }> {
  const bot = createDiscordClient(services);
  await bot.start();
  // `isReady()` stays true while the gateway is reconnecting; every shard's own status says whether events arrive.
  const isConnected = () =>
    bot.client.isReady() &&
    bot.client.ws.shards.size > 0 &&
    bot.client.ws.shards.every((shard) => shard.status === Status.Ready);
  return { name: 'discord', isConnected, stop: (graceMs) => bot.stop(graceMs) };
}
