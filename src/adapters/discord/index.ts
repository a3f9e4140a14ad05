import type { Poquan } from '../../poquan.ts';
import { createDiscordClient } from './client.ts';

export { createDiscordClient } from './client.ts';
export { deployDiscordCommands } from './deploy.ts';

/**
 * Starts the Discord adapter for `npm start` (needs DISCORD_TOKEN; DISCORD_APPLICATION_ID is only needed
 * to deploy commands). Resolves once connected; `stop` drains answers in flight within `graceMs`.
 */
export async function startDiscordAdapter(
  poquan: Poquan,
): Promise<{ name: 'discord'; isConnected(): boolean; stop(graceMs: number): Promise<void> }> {
  const bot = createDiscordClient(poquan);
  await bot.start();
  return { name: 'discord', isConnected: () => bot.client.isReady(), stop: (graceMs) => bot.stop(graceMs) };
}
