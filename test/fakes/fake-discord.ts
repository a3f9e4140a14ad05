import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { APIEmbed, APIMessage, APIUser } from 'discord.js';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  buttonInteraction,
  type FakeGuild,
  fakeGuild,
  guildCreatePayload,
  messageCommandInteraction,
  type Place,
  type SlashOptions,
  shardOfGuild,
  slashCommandInteraction,
  snowflake,
  snowflakeTime,
  userMessage,
} from './fake-discord-fixtures.ts';

/** One REST call as the fake received it; the Authorization header is reduced to whether it was right. */
export interface RecordedRequest {
  method: string;
  /** Decoded path below `/api/v10`, e.g. `/webhooks/1000/itk-…/messages/@original`. */
  path: string;
  query: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are arbitrary JSON, read field by field in tests.
  body: any;
  headers: Record<string, string>;
  authorized: boolean;
  /** `performance.now()` when the request arrived. */
  at: number;
  status: number;
  /** What the fake answered (a message object, an error body …). */
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON, read field by field in tests.
  response: any;
}

/** A scripted response for `failNext`. */
export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Discord's JSON error body `{message, code}` (plus `errors` for form errors) with its HTTP status. */
export function discordError(status: number, code: number, message: string, errors?: unknown): FakeResponse {
  return { status, body: errors === undefined ? { message, code } : { message, code, errors } };
}

/** The errors the adapter must survive, shaped exactly as Discord sends them. */
export const discordErrors = {
  unknownMessage: () => discordError(404, 10008, 'Unknown Message'),
  unknownWebhook: () => discordError(404, 10015, 'Unknown Webhook'),
  unknownInteraction: () => discordError(404, 10062, 'Unknown interaction'),
  invalidWebhookToken: () => discordError(401, 50027, 'Invalid Webhook Token'),
  missingAccess: () => discordError(403, 50001, 'Missing Access'),
  missingPermissions: () => discordError(403, 50013, 'Missing Permissions'),
  serverError: (): FakeResponse => ({
    status: 500,
    body: { message: '500: Internal Server Error', code: 0 },
  }),
};

/**
 * A 429 as Discord sends it: `{message, retry_after, global}` with `Retry-After` (whole seconds, rounded
 * up) and the bucket's `X-RateLimit-*` headers showing it exhausted.
 */
export function rateLimited(retryAfterSeconds: number): FakeResponse {
  return {
    status: 429,
    body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global: false },
    headers: {
      'retry-after': String(Math.ceil(retryAfterSeconds)),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': ((Date.now() + retryAfterSeconds * 1000) / 1000).toFixed(3),
      'x-ratelimit-reset-after': retryAfterSeconds.toFixed(3),
      'x-ratelimit-bucket': 'fake-bucket',
      'x-ratelimit-scope': 'user',
    },
  };
}

/** The fields of a message body the fake reads. */
interface MessageBody {
  content?: string;
  embeds?: APIEmbed[];
  components?: Array<{ type: number; components?: Array<{ type: number; custom_id?: string }> }>;
  flags?: number;
  message_reference?: { message_id: string; fail_if_not_exists?: boolean };
}

/** An application command as registered with PUT. */
interface CommandBody {
  name: string;
  type?: number;
  description?: string;
  options?: Array<{ name: string; description?: string; max_length?: number }>;
}

interface InteractionRecord {
  id: string;
  token: string;
  channelId: string;
  guildId?: string;
  user: APIUser;
  commandType: number;
  /** For a button press: the message the button is on. */
  componentMessageId?: string;
  acknowledged: boolean;
  expired: boolean;
  originalId?: string;
}

interface Failure {
  pattern: RegExp;
  remaining: number;
  response: FakeResponse;
}

interface Route {
  method: string;
  pattern: RegExp;
  auth: boolean;
  handle(match: string[], body: unknown, query: Record<string, string>): FakeResponse;
}

/** Options for `startFakeDiscord`. */
export interface FakeDiscordOptions {
  token?: string;
  applicationId?: string;
  guilds?: FakeGuild[];
}

/** A running fake Discord; see `startFakeDiscord`. */
export type FakeDiscord = Awaited<ReturnType<typeof startFakeDiscord>>;

/** Turns `PATCH /webhooks/*\/*\/messages/@original` into a RegExp over `METHOD /path`. */
function routePattern(pattern: string | RegExp): RegExp {
  if (pattern instanceof RegExp) return pattern;
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}

const contentLimit = 2000;
const interactionTokenMs = 15 * 60_000;

/**
 * A loopback Discord for discord.js: REST under `/api/v10` and a JSON gateway at `/gateway` on one port.
 * It keeps real state (messages, interaction tokens, registered commands), answers with Discord's own
 * object and error shapes, records every REST call, and can be scripted to fail the next calls to a route.
 * The gateway shards like Discord's: each session gets the guilds and events of the shard it identified as.
 */
export async function startFakeDiscord(options: FakeDiscordOptions = {}) {
  const token = options.token ?? 'fake-token';
  const applicationId = options.applicationId ?? '1000';
  const guilds = options.guilds ?? [fakeGuild()];
  const botUser: APIUser = {
    id: applicationId,
    username: 'Poquan',
    discriminator: '0',
    global_name: 'Poquan',
    avatar: null,
    bot: true,
  };
  const application = {
    id: applicationId,
    name: 'Poquan',
    icon: null,
    description: '',
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: randomBytes(32).toString('hex'),
    flags: 0,
    bot: botUser,
  };
  const requests: RecordedRequest[] = [];
  const messages = new Map<string, APIMessage>();
  const interactions = new Map<string, InteractionRecord>();
  const dmChannels = new Map<string, APIUser>();
  const commands = {
    global: [] as Record<string, unknown>[],
    guild: new Map<string, Record<string, unknown>[]>(),
  };
  const failures: Failure[] = [];
  /** Calls handled as usual whose response waits until `released` (see `holdNext`). */
  const holds: Array<{ pattern: RegExp; released: Promise<void> }> = [];
  const listeners = new Set<(request: RecordedRequest) => void>();
  const sockets = new Set<WebSocket>();
  /** Each identified session and the shard `[id, count]` it identified as. */
  const identified = new Map<WebSocket, [number, number]>();
  const identifies: Array<{ intents: number; token: string; shard: [number, number] }> = [];
  let sequence = 0;
  let readyWaiters: Array<() => void> = [];

  const knownChannel = (id: string) =>
    dmChannels.has(id) || guilds.some((guild) => guild.channels.some((channel) => channel.id === id));

  const botMessage = (fields: Partial<APIMessage> & { channel_id: string }): APIMessage => ({
    id: snowflake(),
    author: botUser,
    content: '',
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: 0,
    components: [],
    ...fields,
  });

  const invalidBody = (raw: unknown): FakeResponse | undefined => {
    const body = raw as MessageBody | undefined;
    if (typeof body?.content === 'string' && body.content.length > contentLimit) {
      return discordError(400, 50035, 'Invalid Form Body', {
        content: {
          _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${contentLimit} or fewer in length.` }],
        },
      });
    }
    return invalidComponents(body?.components);
  };

  /** Action rows (type 1) of at most 5 buttons, at most 5 rows, every `custom_id` 1–100 characters. */
  const invalidComponents = (rows: MessageBody['components']): FakeResponse | undefined => {
    if (rows === undefined) return undefined;
    const formError = (path: Record<string, unknown>) => discordError(400, 50035, 'Invalid Form Body', path);
    if (!Array.isArray(rows) || rows.length > 5) {
      return formError({
        components: {
          _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 0 and 5 in length.' }],
        },
      });
    }
    for (const [r, row] of rows.entries()) {
      if (row.type !== 1 || !Array.isArray(row.components) || row.components.length > 5) {
        return formError({
          components: {
            [r]: { _errors: [{ code: 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', message: 'Invalid action row.' }] },
          },
        });
      }
      for (const [c, component] of row.components.entries()) {
        const id = component.custom_id;
        if (component.type === 2 && (typeof id !== 'string' || id.length < 1 || id.length > 100)) {
          return formError({
            components: {
              [r]: {
                components: {
                  [c]: {
                    custom_id: {
                      _errors: [
                        { code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' },
                      ],
                    },
                  },
                },
              },
            },
          });
        }
      }
    }
    return undefined;
  };

  const applyEdit = (message: APIMessage, raw: unknown): APIMessage => {
    const body = raw as MessageBody | undefined;
    if (typeof body?.content === 'string') message.content = body.content;
    if (Array.isArray(body?.embeds)) message.embeds = body.embeds;
    if (Array.isArray(body?.components)) message.components = body.components as APIMessage['components'];
    message.flags = (message.flags ?? 0) & ~128;
    message.edited_timestamp = new Date().toISOString();
    return message;
  };

  /** Discord's interaction tokens work for 15 minutes after the interaction was created. */
  const isExpired = (record: InteractionRecord) =>
    record.expired || Date.now() - snowflakeTime(record.id) >= interactionTokenMs;
  const interactionFor = (app: string, tokenValue: string): InteractionRecord | FakeResponse => {
    const record = interactions.get(tokenValue);
    if (app !== applicationId || !record) return discordErrors.unknownWebhook();
    if (isExpired(record)) return discordErrors.invalidWebhookToken();
    return record;
  };
  const isResponse = (value: unknown): value is FakeResponse =>
    typeof value === 'object' && value !== null && 'status' in value;

  const ok = (body: unknown, status = 200): FakeResponse => ({ status, body });

  const registerCommands = (
    existing: Record<string, unknown>[],
    body: unknown,
    guildId?: string,
  ): FakeResponse => {
    if (!Array.isArray(body)) return discordError(400, 50035, 'Invalid Form Body', { _errors: [] });
    const list = body as CommandBody[];
    const optionNameOk = (name: string) => /^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$/u.test(name);
    const errors: Record<string, unknown> = {};
    list.forEach((command, index) => {
      const type = command.type ?? 1;
      const nameOk = type === 1 ? optionNameOk(command.name) : /^.{1,32}$/u.test(command.name);
      const descriptionOk =
        type === 1
          ? typeof command.description === 'string' &&
            command.description.length >= 1 &&
            command.description.length <= 100
          : !command.description;
      const optionsOk = (command.options ?? []).every(
        (option) =>
          optionNameOk(option.name) &&
          typeof option.description === 'string' &&
          option.description.length >= 1 &&
          option.description.length <= 100 &&
          (option.max_length === undefined || (option.max_length >= 1 && option.max_length <= 6000)),
      );
      if (!nameOk || !descriptionOk || !optionsOk) {
        errors[index] = { _errors: [{ code: 'APPLICATION_COMMAND_INVALID', message: 'Invalid command' }] };
      }
    });
    if (Object.keys(errors).length > 0) return discordError(400, 50035, 'Invalid Form Body', errors);
    const saved = list.map((command) => {
      const type = command.type ?? 1;
      const previous = existing.find((old) => old.name === command.name && old.type === type);
      // Discord keeps installation contexts only on global commands; guild commands drop them.
      const { contexts, integration_types, ...declared } = command as CommandBody & Record<string, unknown>;
      return {
        description: '',
        default_member_permissions: null,
        nsfw: false,
        ...(guildId
          ? { guild_id: guildId }
          : { integration_types: integration_types ?? [0], contexts: contexts ?? null }),
        ...declared,
        type,
        id: (previous?.id as string | undefined) ?? snowflake(),
        application_id: applicationId,
        version: snowflake(),
      };
    });
    existing.splice(0, existing.length, ...saved);
    return ok(saved);
  };

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/gateway\/bot$/,
      auth: true,
      handle: () =>
        ok({
          url: `ws://127.0.0.1:${port()}/gateway`,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
        }),
    },
    { method: 'GET', pattern: /^\/users\/@me$/, auth: true, handle: () => ok(botUser) },
    // "Get Current Application": the application the bot token belongs to.
    { method: 'GET', pattern: /^\/applications\/@me$/, auth: true, handle: () => ok(application) },
    {
      method: 'POST',
      pattern: /^\/users\/@me\/channels$/,
      auth: true,
      handle: (_match, body) => {
        const recipientId = (body as { recipient_id?: string })?.recipient_id;
        if (!recipientId)
          return discordError(400, 50035, 'Invalid Form Body', { recipient_id: { _errors: [] } });
        const existing = [...dmChannels].find(([, user]) => user.id === recipientId);
        const id = existing?.[0] ?? snowflake();
        const recipient = existing?.[1] ?? {
          id: recipientId,
          username: 'someone',
          discriminator: '0',
          global_name: null,
          avatar: null,
        };
        dmChannels.set(id, recipient);
        return ok({ id, type: 1, recipients: [recipient], last_message_id: null, flags: 0 });
      },
    },
    {
      method: 'POST',
      pattern: /^\/interactions\/(\d+)\/([^/]+)\/callback$/,
      auth: false,
      handle: ([id, tokenValue], body) => {
        const record = interactions.get(tokenValue as string);
        if (!record || record.id !== id || isExpired(record)) return discordErrors.unknownInteraction();
        if (record.acknowledged)
          return discordError(400, 40060, 'Interaction has already been acknowledged.');
        const callback = body as { type?: number; data?: MessageBody } | undefined;
        const type = callback?.type ?? 0;
        // 6 (DEFERRED_UPDATE_MESSAGE) and 7 (UPDATE_MESSAGE) exist only for component interactions.
        const component = record.componentMessageId;
        if (![4, 5, ...(component ? [6, 7] : [])].includes(type))
          return discordError(400, 50035, 'Invalid Form Body', {
            type: { _errors: [{ code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Invalid type.' }] },
          });
        const invalid = type === 4 || type === 7 ? invalidBody(callback?.data) : undefined;
        if (invalid) return invalid;
        if (component && (type === 6 || type === 7)) {
          // The message with the button becomes the interaction's @original; 7 edits it at once.
          const target = messages.get(component);
          if (!target) return discordErrors.unknownMessage();
          if (type === 7) applyEdit(target, callback?.data);
          record.acknowledged = true;
          record.originalId = component;
          return { status: 204 };
        }
        const flags = (callback?.data?.flags ?? 0) & 64;
        const original = botMessage({
          channel_id: record.channelId,
          type: component ? 19 : record.commandType === 1 ? 20 : 23,
          webhook_id: applicationId,
          application_id: applicationId,
          flags: type === 5 ? flags | 128 : flags,
          content: type === 4 ? (callback?.data?.content ?? '') : '',
          components: type === 4 ? ((callback?.data?.components ?? []) as APIMessage['components']) : [],
          interaction_metadata: {
            id: record.id,
            type: component ? 3 : 2,
            user: record.user,
            authorizing_integration_owners: { '0': record.guildId ?? '0' },
          },
        } as Partial<APIMessage> & { channel_id: string });
        messages.set(original.id, original);
        record.acknowledged = true;
        record.originalId = original.id;
        return { status: 204 };
      },
    },
    ...(['GET', 'PATCH', 'DELETE'] as const).map(
      (method): Route => ({
        method,
        pattern: /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/,
        auth: false,
        handle: ([app, tokenValue, messageId], body) => {
          const record = interactionFor(app as string, tokenValue as string);
          if (isResponse(record)) return record;
          const id = messageId === '@original' ? record.originalId : messageId;
          const message = id ? messages.get(id) : undefined;
          if (!message) return discordErrors.unknownMessage();
          if (method === 'GET') return ok(message);
          if (method === 'DELETE') {
            messages.delete(message.id);
            if (message.id === record.originalId) record.originalId = undefined;
            return { status: 204 };
          }
          return invalidBody(body) ?? ok(applyEdit(message, body));
        },
      }),
    ),
    {
      method: 'POST',
      pattern: /^\/webhooks\/(\d+)\/([^/]+)$/,
      auth: false,
      handle: ([app, tokenValue], body) => {
        const record = interactionFor(app as string, tokenValue as string);
        if (isResponse(record)) return record;
        const invalid = invalidBody(body);
        if (invalid) return invalid;
        const original = record.originalId ? messages.get(record.originalId) : undefined;
        // Discord: a follow-up right after a deferral edits the loading message instead of adding one.
        if (original && (original.flags ?? 0) & 128) return ok(applyEdit(original, body));
        const followUp = botMessage({
          channel_id: record.channelId,
          webhook_id: applicationId,
          application_id: applicationId,
          content: (body as MessageBody | undefined)?.content ?? '',
          components: ((body as MessageBody | undefined)?.components ?? []) as APIMessage['components'],
          flags: ((body as MessageBody | undefined)?.flags ?? 0) & 64,
        });
        messages.set(followUp.id, followUp);
        return ok(followUp);
      },
    },
    {
      method: 'POST',
      pattern: /^\/channels\/(\d+)\/messages$/,
      auth: true,
      handle: ([channelId], body) => {
        if (!knownChannel(channelId as string)) return discordError(404, 10003, 'Unknown Channel');
        const invalid = invalidBody(body);
        if (invalid) return invalid;
        const payload = body as MessageBody | undefined;
        if (!payload?.content && !payload?.embeds?.length)
          return discordError(400, 50006, 'Cannot send an empty message');
        const reference = payload.message_reference;
        const referenced = reference ? messages.get(reference.message_id) : undefined;
        if (reference && !referenced && reference.fail_if_not_exists !== false) {
          return discordError(400, 50035, 'Invalid Form Body', {
            message_reference: { _errors: [{ code: 'REPLIES_UNKNOWN_MESSAGE', message: 'Unknown message' }] },
          });
        }
        const message = botMessage({
          channel_id: channelId as string,
          content: payload.content ?? '',
          embeds: payload.embeds ?? [],
          components: (payload.components ?? []) as APIMessage['components'],
          ...(referenced
            ? {
                type: 19,
                message_reference: { type: 0, message_id: referenced.id, channel_id: referenced.channel_id },
                referenced_message: referenced,
              }
            : {}),
        });
        messages.set(message.id, message);
        return ok(message);
      },
    },
    ...(['GET', 'PATCH'] as const).map(
      (method): Route => ({
        method,
        pattern: /^\/channels\/(\d+)\/messages\/(\d+)$/,
        auth: true,
        handle: ([channelId, messageId], body) => {
          const message = messages.get(messageId as string);
          // An ephemeral message exists only for its recipient's client: channel endpoints don't know it.
          if (!message || message.channel_id !== channelId || (message.flags ?? 0) & 64)
            return discordErrors.unknownMessage();
          if (method === 'GET') return ok(message);
          if (message.author.id !== botUser.id)
            return discordError(403, 50005, 'Cannot edit a message authored by another user');
          return invalidBody(body) ?? ok(applyEdit(message, body));
        },
      }),
    ),
    {
      method: 'POST',
      pattern: /^\/channels\/(\d+)\/typing$/,
      auth: true,
      handle: ([channelId]) =>
        knownChannel(channelId as string) ? { status: 204 } : discordError(404, 10003, 'Unknown Channel'),
    },
    ...(['GET', 'PUT'] as const).flatMap((method): Route[] => [
      {
        method,
        pattern: /^\/applications\/(\d+)\/commands$/,
        auth: true,
        handle: ([app], body) => {
          if (app !== applicationId) return discordError(403, 50001, 'Missing Access');
          return method === 'GET' ? ok(commands.global) : registerCommands(commands.global, body);
        },
      },
      {
        method,
        pattern: /^\/applications\/(\d+)\/guilds\/(\d+)\/commands$/,
        auth: true,
        handle: ([app, guildId], body) => {
          if (app !== applicationId) return discordError(403, 50001, 'Missing Access');
          const list = commands.guild.get(guildId as string) ?? [];
          commands.guild.set(guildId as string, list);
          return method === 'GET' ? ok(list) : registerCommands(list, body, guildId);
        },
      },
    ]),
  ];

  const send = (response: ServerResponse, result: FakeResponse) => {
    const headers: Record<string, string> = {
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '4',
      'x-ratelimit-reset': ((Date.now() + 1000) / 1000).toFixed(3),
      'x-ratelimit-reset-after': '1.000',
      'x-ratelimit-bucket': 'fake-bucket',
      ...result.headers,
    };
    if (result.status === 204 || result.body === undefined) {
      response.writeHead(result.status, headers).end();
      return;
    }
    response
      .writeHead(result.status, { ...headers, 'content-type': 'application/json' })
      .end(JSON.stringify(result.body));
  };

  const handleRest = async (request: IncomingMessage, response: ServerResponse) => {
    const at = performance.now();
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const raw = await new Promise<string>((resolve) => {
      let data = '';
      request.setEncoding('utf8');
      request.on('data', (chunk) => {
        data += chunk;
      });
      request.on('end', () => resolve(data));
    });
    const prefix = '/api/v10';
    const path = url.pathname.startsWith(prefix)
      ? url.pathname.slice(prefix.length).split('/').map(decodeURIComponent).join('/')
      : url.pathname;
    const method = request.method ?? 'GET';
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const { authorization, ...headers } = request.headers as Record<string, string>;
    const recorded: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      body,
      headers,
      authorized: authorization === `Bot ${token}`,
      at,
      status: 0,
      response: undefined,
    };
    requests.push(recorded);

    const key = `${method} ${path}`;
    const failure = failures.find((f) => f.remaining > 0 && f.pattern.test(key));
    let result: FakeResponse;
    if (failure) {
      failure.remaining -= 1;
      result = failure.response;
    } else {
      const route = routes.find((r) => r.method === method && r.pattern.test(path));
      const match = route ? (path.match(route.pattern) as RegExpMatchArray).slice(1) : [];
      if (!route || !url.pathname.startsWith(prefix)) result = discordError(404, 0, '404: Not Found');
      else if (route.auth && !recorded.authorized) result = discordError(401, 0, '401: Unauthorized');
      else result = route.handle(match, body, recorded.query);
    }
    recorded.status = result.status;
    recorded.response = result.body;
    const hold = holds.findIndex((h) => h.pattern.test(key));
    if (hold >= 0) await holds.splice(hold, 1)[0]?.released;
    send(response, result);
    for (const listener of listeners) listener(recorded);
  };

  const server = createServer((request, response) => {
    handleRest(request, response).catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  const gateway = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://127.0.0.1').pathname !== '/gateway') {
      socket.destroy();
      return;
    }
    gateway.handleUpgrade(request, socket, head, (ws) => gateway.emit('connection', ws, request));
  });

  const sendPayload = (ws: WebSocket, payload: unknown) => ws.send(JSON.stringify(payload));

  gateway.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    ws.on('close', () => {
      sockets.delete(ws);
      identified.delete(ws);
    });
    sendPayload(ws, { op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null });
    ws.on('message', (data) => {
      const payload = JSON.parse(String(data)) as { op: number; d: unknown };
      if (payload.op === 1) {
        sendPayload(ws, { op: 11, d: null, s: null, t: null });
      } else if (payload.op === 2) {
        const identify = payload.d as { token: string; intents: number; shard?: [number, number] };
        // Without `shard` a session is shard 0 of 1: it receives every event.
        const shard = identify.shard ?? [0, 1];
        identifies.push({
          intents: identify.intents,
          token: identify.token === token ? '[correct]' : '[wrong]',
          shard,
        });
        if (identify.token !== token) {
          ws.close(4004, 'Authentication failed.');
          return;
        }
        const [shardId, shardCount] = shard;
        if (!Number.isInteger(shardCount) || shardCount < 1 || shardId < 0 || shardId >= shardCount) {
          ws.close(4010, 'Invalid shard.');
          return;
        }
        identified.set(ws, shard);
        const own = guilds.filter((guild) => shardOfGuild(guild.id, shardCount) === shardId);
        sequence += 1;
        sendPayload(ws, {
          op: 0,
          t: 'READY',
          s: sequence,
          d: {
            v: 10,
            user: botUser,
            guilds: own.map((guild) => ({ id: guild.id, unavailable: true })),
            session_id: randomBytes(16).toString('hex'),
            resume_gateway_url: `ws://127.0.0.1:${port()}/gateway`,
            shard,
            application: { id: applicationId, flags: 0 },
          },
        });
        for (const guild of own) {
          sequence += 1;
          sendPayload(ws, { op: 0, t: 'GUILD_CREATE', s: sequence, d: guildCreatePayload(guild, botUser) });
        }
        for (const resolve of readyWaiters) resolve();
        readyWaiters = [];
      }
    });
  });

  /**
   * Sends a dispatch (op 0) with the next sequence number to every identified session of the shard Discord routes
   * it to: an event with a `guild_id` to shard `(guild_id >> 22) % count`, any other (a DM) to shard 0. Several
   * sessions of one shard (two instances with the same settings) each receive it.
   */
  function dispatch(event: string, data: unknown): void {
    const guildId = (data as { guild_id?: unknown } | undefined)?.guild_id;
    for (const [ws, [shardId, shardCount]] of identified) {
      const target = typeof guildId === 'string' ? shardOfGuild(guildId, shardCount) : 0;
      if (shardId !== target) continue;
      sequence += 1;
      sendPayload(ws, { op: 0, t: event, s: sequence, d: data });
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = () => (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port()}`;
  const defaultGuild = guilds[0] as FakeGuild;

  const fake = {
    url,
    /** What `DISCORD_API_BASE` should be: discord.js appends `/v10`. */
    apiBase: `${url}/api`,
    token,
    applicationId,
    botUser,
    guilds,
    /** The first guild's text channel and thread, for tests that need "a channel". */
    guild: defaultGuild,
    channel: { guild: defaultGuild, channel: defaultGuild.channels.find((c) => c.type === 0) } as Place,
    thread: { guild: defaultGuild, channel: defaultGuild.channels.find((c) => c.type === 11) } as Place,
    requests,
    messages,
    commands,
    /** IDENTIFY payloads received (token reduced to whether it was correct; `shard` is `[0, 1]` when absent). */
    identifies,

    /** Makes the next `n` calls matching `pattern` (`METHOD /path`, `*` = one segment) answer `response`. */
    failNext(pattern: string | RegExp, n: number, response: FakeResponse): void {
      failures.push({ pattern: routePattern(pattern), remaining: n, response });
    },

    /**
     * Carries out the next call matching `pattern` as usual, but holds its response back until the returned
     * function is called: Discord has done what was asked, and the caller doesn't know it yet.
     */
    holdNext(pattern: string | RegExp): () => void {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      holds.push({ pattern: routePattern(pattern), released });
      return release;
    },

    /** Resolves once a client has identified (immediately if one has). */
    whenIdentified(): Promise<void> {
      if (identified.size > 0) return Promise.resolve();
      return new Promise((resolve) => readyWaiters.push(resolve));
    },

    dispatch,

    /** A DM channel between the bot and `user`, known to the fake so the bot can post in it. */
    dmWith(user: APIUser): Place {
      const id = snowflake();
      dmChannels.set(id, user);
      return { dmChannelId: id };
    },

    /**
     * Dispatches a slash command and registers its token; returns the payload (id, token, …). Its token works
     * for 15 minutes after `createdAt` (default now), as Discord's do.
     */
    sendSlashCommand(input: {
      place: Place;
      user: APIUser;
      name: string;
      options?: SlashOptions;
      locale?: string;
      createdAt?: number;
    }) {
      const payload = slashCommandInteraction({ ...input, applicationId });
      track(payload, input.user, 1);
      dispatch('INTERACTION_CREATE', payload);
      return payload;
    },

    /** Dispatches a message context-menu command used on `target`. */
    sendMessageCommand(input: {
      place: Place;
      user: APIUser;
      name: string;
      target: APIMessage;
      locale?: string;
    }) {
      const payload = messageCommandInteraction({ ...input, applicationId });
      track(payload, input.user, 3);
      dispatch('INTERACTION_CREATE', payload);
      return payload;
    },

    /**
     * A user presses a button (`customId`) on one of the bot's messages: dispatches a MESSAGE_COMPONENT
     * interaction carrying the message as the fake holds it now. Throws if the message has no such button,
     * as a user can't press one that isn't there.
     */
    clickButton(input: {
      place: Place;
      user: APIUser;
      message: APIMessage;
      customId: string;
      locale?: string;
    }) {
      const current = messages.get(input.message.id);
      const hasButton = current?.components?.some(
        (row) =>
          'components' in row &&
          row.components.some((c) => 'custom_id' in c && c.custom_id === input.customId),
      );
      if (!current || !hasButton) {
        throw new Error(`fake-discord: message ${input.message.id} has no button "${input.customId}"`);
      }
      const payload = buttonInteraction({ ...input, message: current, applicationId });
      track(payload, input.user, 0, current.id);
      dispatch('INTERACTION_CREATE', payload);
      return payload;
    },

    /** Stores a user's message (so the bot can reply to it) and dispatches MESSAGE_CREATE. */
    sendUserMessage(input: Parameters<typeof userMessage>[0]) {
      const message = userMessage(input);
      messages.set(message.id, message);
      dispatch('MESSAGE_CREATE', message);
      return message;
    },

    /** Makes an interaction's token stale, as Discord does after 15 minutes. */
    expireInteraction(tokenValue: string): void {
      const record = interactions.get(tokenValue);
      if (record) record.expired = true;
    },

    /** The original response message of an interaction, if one exists. */
    originalMessage(tokenValue: string): APIMessage | undefined {
      const id = interactions.get(tokenValue)?.originalId;
      return id ? messages.get(id) : undefined;
    },

    /** Resolves with the first request (already recorded or future) that satisfies `predicate`. */
    waitForRequest(
      predicate: (request: RecordedRequest) => boolean,
      timeoutMs = 5000,
    ): Promise<RecordedRequest> {
      const found = requests.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`no matching Discord request within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (request: RecordedRequest) => {
          if (!predicate(request)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(request);
        };
        listeners.add(listener);
      });
    },

    async close(): Promise<void> {
      for (const ws of sockets) ws.terminate();
      gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  function track(
    payload: { id: string; token: string; channel_id: string; guild_id?: string },
    user: APIUser,
    type: number,
    componentMessageId?: string,
  ) {
    if (!payload.guild_id) dmChannels.set(payload.channel_id, user);
    interactions.set(payload.token, {
      id: payload.id,
      token: payload.token,
      channelId: payload.channel_id,
      ...(payload.guild_id ? { guildId: payload.guild_id } : {}),
      user,
      commandType: type,
      ...(componentMessageId ? { componentMessageId } : {}),
      acknowledged: false,
      expired: false,
    });
  }

  return fake;
}
