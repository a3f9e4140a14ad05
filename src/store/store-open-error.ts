import { ConfigError } from '../core/errors.ts';

/**
 * The store named by `STORE_URL` cannot be used at all (a SQLite file that is not a database, corrupt or
 * unreadable; credentials Redis refuses). Raised at start, so the operator gets one line naming the setting
 * instead of a crash loop.
 */
export class StoreOpenError extends ConfigError {
  override name = 'StoreOpenError';
}
