import { Api, GrammyError, HttpError } from 'grammy';
import type { WebhookInfo } from 'grammy/types';
import type { Config } from '../../core/config.ts';
import { ConfigError, PlatformError } from '../../core/errors.ts';
import { describeConnectionFailure, withoutCredentials } from '../../logging/connection-failure.ts';
import { redactToken } from './errors.ts';
import { telegramUpdateTypes } from './update-types.ts';

/** `getWebhookInfo` as `poquan webhook info` reports it: secrets removed, dates as ISO strings. */
export interface WebhookReport {
  /** The registered URL; empty when the bot long-polls. */
  url: string;
  /** Whether the registered URL is `TELEGRAM_WEBHOOK_URL`. */
  matchesConfig: boolean;
  pendingUpdateCount: number;
  lastErrorDate?: string;
  lastErrorMessage?: string;
  lastSynchronizationErrorDate?: string;
  maxConnections?: number;
  allowedUpdates?: string[];
  ipAddress?: string;
  hasCustomCertificate: boolean;
}

/** Options of `poquan webhook set` and `poquan webhook delete`. */
export interface WebhookChangeOptions {
  /** Discard the updates Telegram queued meanwhile, instead of delivering them. */
  dropPendingUpdates?: boolean;
}

function connect(config: Config): { api: Api; redact(text: string): string } {
  const { token, apiRoot, webhook } = config.telegram;
  if (!token) throw new ConfigError('TELEGRAM_BOT_TOKEN is not set.');
  return {
    api: new Api(token, { apiRoot }),
    // A URL may carry a secret path, and error texts may quote request URLs with the token.
    redact: (text) => {
      const withoutToken = redactToken(text, token);
      return webhook ? withoutToken.replaceAll(webhook.secret, '[redacted]') : withoutToken;
    },
  };
}

/** Runs a Bot API call, turning its failure into an error that names the cause and never carries the token. */
async function call<T>(config: Config, redact: (text: string) => string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof GrammyError && error.error_code === 401) {
      throw new ConfigError(
        'Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized). Check it with @BotFather.',
      );
    }
    if (error instanceof GrammyError) {
      throw new PlatformError(`Telegram refused: ${redact(error.description)}`);
    }
    // By the socket's error code only: the request's error message quotes its URL, token and all.
    const cause = error instanceof HttpError ? error.error : error;
    const reason = cause instanceof Error ? describeConnectionFailure(cause) : 'no connection';
    const root = withoutCredentials(config.telegram.apiRoot);
    throw new PlatformError(
      `Could not reach the Telegram Bot API at TELEGRAM_API_ROOT (${root}): ${reason}. Check the URL and the network; \`poquan doctor\` checks every setting.`,
    );
  }
}

const isoDate = (unixSeconds: number | undefined) =>
  unixSeconds === undefined ? undefined : new Date(unixSeconds * 1000).toISOString();

function toReport(info: WebhookInfo, config: Config, redact: (text: string) => string): WebhookReport {
  const url = info.url ?? '';
  return {
    url: redact(url),
    matchesConfig: url !== '' && url === config.telegram.webhook?.url,
    pendingUpdateCount: info.pending_update_count,
    lastErrorDate: isoDate(info.last_error_date),
    lastErrorMessage: info.last_error_message && redact(info.last_error_message),
    lastSynchronizationErrorDate: isoDate(info.last_synchronization_error_date),
    maxConnections: info.max_connections,
    allowedUpdates: info.allowed_updates,
    ipAddress: info.ip_address,
    hasCustomCertificate: info.has_custom_certificate,
  };
}

/**
 * Reads the bot's webhook registration (`getWebhookInfo`): the URL, how many updates wait for delivery and the
 * latest delivery error — what to look at when a webhook deployment receives nothing.
 * @see https://core.telegram.org/bots/api#getwebhookinfo
 */
export async function describeTelegramWebhook(config: Config): Promise<WebhookReport> {
  const { api, redact } = connect(config);
  return toReport(await call(config, redact, () => api.getWebhookInfo()), config, redact);
}

/**
 * Registers `TELEGRAM_WEBHOOK_URL` with its secret token and the update types the bot handles, so Telegram
 * posts updates there instead of holding them for long polling. Every instance behind the URL then answers.
 * @see https://core.telegram.org/bots/api#setwebhook
 */
export async function setTelegramWebhook(
  config: Config,
  options: WebhookChangeOptions = {},
): Promise<WebhookReport> {
  const { webhook } = config.telegram;
  if (!webhook) {
    throw new ConfigError(
      'Set TELEGRAM_WEBHOOK_URL (the public HTTPS URL of your load balancer) and TELEGRAM_WEBHOOK_SECRET first.',
    );
  }
  const { api, redact } = connect(config);
  await call(config, redact, () =>
    api.setWebhook(webhook.url, {
      secret_token: webhook.secret,
      allowed_updates: telegramUpdateTypes,
      drop_pending_updates: options.dropPendingUpdates ?? false,
    }),
  );
  return describeTelegramWebhook(config);
}

/**
 * Removes the webhook, so the bot can long-poll again (unset `TELEGRAM_WEBHOOK_URL` before restarting).
 * @see https://core.telegram.org/bots/api#deletewebhook
 */
export async function deleteTelegramWebhook(
  config: Config,
  options: WebhookChangeOptions = {},
): Promise<WebhookReport> {
  const { api, redact } = connect(config);
  await call(config, redact, () =>
    api.deleteWebhook({ drop_pending_updates: options.dropPendingUpdates ?? false }),
  );
  return describeTelegramWebhook(config);
}

/** The report as `poquan webhook …` prints it: one aligned line per field, with what a mismatch means. */
export function formatWebhookReport(report: WebhookReport): string {
  const registration = !report.url
    ? 'none (the bot long-polls)'
    : `${report.url}${report.matchesConfig ? '' : '  (not TELEGRAM_WEBHOOK_URL: run `poquan webhook set`)'}`;
  const rows: Array<[string, string | undefined]> = [
    ['webhook', registration],
    ['pending updates', String(report.pendingUpdateCount)],
    [
      'last error',
      report.lastErrorDate ? `${report.lastErrorDate}  ${report.lastErrorMessage ?? ''}`.trim() : 'none',
    ],
    ['last sync error', report.lastSynchronizationErrorDate],
    ['max connections', report.maxConnections?.toString()],
    ['allowed updates', report.allowedUpdates?.join(', ')],
    ['ip address', report.ipAddress],
    ['certificate', report.url ? (report.hasCustomCertificate ? 'custom' : 'public CA') : undefined],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== undefined)
    .map(([name, value]) => `${name.padEnd(16)} ${value}\n`)
    .join('');
}
