import type { Config } from '../core/config.ts';
import { type DoctorCheck, failed, jsonBody, networkReason, requestTimeoutMs } from './check.ts';

/** A Bot API error envelope, as Telegram sends it. */
interface TelegramReply {
  ok?: boolean;
  result?: { id?: number; username?: string };
  error_code?: number;
  description?: string;
}

/**
 * Asks Telegram who `TELEGRAM_BOT_TOKEN` is (`getMe`). Telegram answers 401 for a revoked or wrong token and
 * 404 for one that is not shaped like a token; both blame the token. An answer that is not a Bot API reply
 * blames `TELEGRAM_API_ROOT`. The token is part of the URL, so no URL is ever printed.
 * @see https://core.telegram.org/bots/api#getme
 */
export async function checkTelegramToken(config: Config): Promise<DoctorCheck> {
  const { token, apiRoot } = config.telegram;
  if (!token) throw new Error('checkTelegramToken needs TELEGRAM_BOT_TOKEN');
  let response: Response;
  try {
    response = await fetch(`${apiRoot}/bot${token}/getMe`, { signal: AbortSignal.timeout(requestTimeoutMs) });
  } catch (error) {
    return failed(
      'telegram',
      `could not reach the Bot API at ${apiRoot} (${networkReason(error)})`,
      'check the network and TELEGRAM_API_ROOT (default https://api.telegram.org)',
    );
  }
  const reply = (await jsonBody(response)) as TelegramReply | undefined;
  if (reply?.ok === true && reply.result) {
    return {
      name: 'telegram',
      ok: true,
      detail: `TELEGRAM_BOT_TOKEN is @${reply.result.username} (id ${reply.result.id})`,
    };
  }
  if (reply?.ok === false && (reply.error_code === 401 || reply.error_code === 404)) {
    return failed(
      'telegram',
      `Telegram rejected TELEGRAM_BOT_TOKEN (${[reply.error_code, reply.description].filter(Boolean).join(' ')})`,
      'copy the token again from @BotFather (/mybots → your bot → API Token) into TELEGRAM_BOT_TOKEN',
    );
  }
  return failed(
    'telegram',
    `${apiRoot} answered getMe with ${response.status}, not as the Bot API does`,
    'check TELEGRAM_API_ROOT (default https://api.telegram.org)',
  );
}

/** Discord's error body. */
interface DiscordReply {
  id?: string;
  username?: string;
  message?: string;
  code?: number;
}

async function discordGet(
  config: Config,
  route: string,
): Promise<{ status: number; body: DiscordReply | undefined }> {
  const response = await fetch(`${config.discord.apiBase}/v10${route}`, {
    headers: { authorization: `Bot ${config.discord.token}` },
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  return { status: response.status, body: (await jsonBody(response)) as DiscordReply | undefined };
}

const portalTokenFix =
  'reset the token in the Discord Developer Portal (your application → Bot → Reset Token) and copy it into DISCORD_TOKEN';

/**
 * Asks Discord who `DISCORD_TOKEN` is (`GET /users/@me`) and which application it belongs to
 * (`GET /applications/@me`), and checks that `DISCORD_APPLICATION_ID` names that application, because
 * `deploy-commands` registers the commands under it.
 * @see https://discord.com/developers/docs/resources/user#get-current-user
 * @see https://discord.com/developers/docs/resources/application#get-current-application
 */
export async function checkDiscordToken(config: Config): Promise<DoctorCheck> {
  const { apiBase, applicationId } = config.discord;
  let user: Awaited<ReturnType<typeof discordGet>>;
  let application: Awaited<ReturnType<typeof discordGet>>;
  try {
    user = await discordGet(config, '/users/@me');
    if (user.status === 401) {
      return failed('discord', 'Discord rejected DISCORD_TOKEN (401 Unauthorized)', portalTokenFix);
    }
    if (user.status !== 200 || !user.body?.id) {
      return failed(
        'discord',
        `${apiBase} answered GET /users/@me with ${user.status}, not as Discord's API does`,
        'check DISCORD_API_BASE (default https://discord.com/api)',
      );
    }
    application = await discordGet(config, '/applications/@me');
  } catch (error) {
    return failed(
      'discord',
      `could not reach Discord at ${apiBase} (${networkReason(error)})`,
      'check the network and DISCORD_API_BASE (default https://discord.com/api)',
    );
  }
  const bot = `DISCORD_TOKEN is ${user.body.username} (id ${user.body.id})`;
  const owner = application.body?.id;
  if (application.status !== 200 || !owner) {
    return failed(
      'discord',
      `${bot}, but GET /applications/@me answered ${application.status}`,
      'check DISCORD_API_BASE (default https://discord.com/api)',
    );
  }
  if (!applicationId) {
    return {
      name: 'discord',
      ok: true,
      detail: `${bot}; DISCORD_APPLICATION_ID is unset (deploy-commands needs it: ${owner})`,
    };
  }
  if (applicationId !== owner) {
    return failed(
      'discord',
      `DISCORD_APPLICATION_ID is ${applicationId}, but DISCORD_TOKEN belongs to application ${owner}`,
      `set DISCORD_APPLICATION_ID=${owner} (Developer Portal → General Information → Application ID), or use that application's token`,
    );
  }
  return { name: 'discord', ok: true, detail: `${bot}, application ${owner}` };
}
