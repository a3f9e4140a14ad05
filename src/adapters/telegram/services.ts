import type { CommandServices } from '../../../commands/command.ts';
import type { Config } from '../../core/config.ts';
import type { Store } from '../../core/store.ts';
import type { WorkQueue, WorkQueueOptions } from '../../core/work-queue.ts';

/**
 * What the Telegram adapter uses of the assembled core: what its commands use, its own settings, and the store
 * its preview and delivery records, its polling inbox and its webhook's update queue live in.
 */
export interface TelegramServices extends CommandServices {
  config: Pick<Config, 'telegram' | 'http' | 'defaultLanguage' | 'showReasoning' | 'handoff'>;
  store: Store;
  /** The durable work queue `name`, shared by every instance on the store (see `OpenedStore.openQueue`). */
  openQueue(name: string, options: WorkQueueOptions): WorkQueue;
}
