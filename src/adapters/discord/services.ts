import type { CommandServices } from '../../../commands/command.ts';
import type { Config } from '../../core/config.ts';
import type { Store } from '../../core/store.ts';

/**
 * What the Discord adapter uses of the assembled core: what its commands use, its own settings, and the store
 * its event claims, answer-message mappings and answers in flight live in.
 */
export interface DiscordServices extends CommandServices {
  config: Pick<Config, 'discord' | 'defaultLanguage' | 'showReasoning' | 'handoff' | 'memory'>;
  store: Store;
}
