import { randomBytes } from 'node:crypto';
import type {
  APIApplicationCommandInteractionDataOption,
  APIChannel,
  APIGuildMember,
  APIMessage,
  APIUser,
  GuildMemberFlags,
} from 'discord.js';

/** Discord's epoch (2015-01-01), the zero point of snowflake timestamps. */
const discordEpoch = 1_420_070_400_000n;
let increment = 0n;

/**
 * A fresh snowflake whose timestamp is `at`, so discord.js computes real creation times (an id like "1"
 * would look nine years old, and any "token expired?" logic would misfire).
 */
export function snowflake(at: number = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(at) - discordEpoch) << 22n) | increment).toString();
}

/** When the snowflake `id` was made (ms since the epoch), as Discord reads it. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + discordEpoch);
}

/** A human user as Discord sends it in payloads. */
export function fakeUser(overrides: Partial<APIUser> = {}): APIUser {
  const id = overrides.id ?? snowflake();
  return {
    id,
    username: `user${id.slice(-4)}`,
    discriminator: '0',
    global_name: null,
    avatar: null,
    ...overrides,
  };
}

/** A guild channel or thread the fake's guild contains. */
export interface FakeChannel {
  id: string;
  name: string;
  /** 0 = GUILD_TEXT, 11 = PUBLIC_THREAD. */
  type: 0 | 11;
  parentId?: string;
}

/** A guild as the fake announces it with GUILD_CREATE after READY. */
export interface FakeGuild {
  id: string;
  name: string;
  channels: FakeChannel[];
}

/**
 * The gateway shard that receives a guild's events: `(guild_id >> 22) % shardCount`, Discord's own formula
 * (Discord's developer documentation, Gateway, "Sharding").
 */
export function shardOfGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/**
 * A guild with one text channel and one public thread in it. With `onShard: [id, count]` its id is chosen so
 * that Discord routes its events to shard `id` of `count`.
 */
export function fakeGuild(name = 'Poquan Test', onShard?: [number, number]): FakeGuild {
  const channelId = snowflake();
  const now = Date.now();
  // The id's upper bits are its millisecond timestamp: step back to the latest one that lands on the shard.
  const at = onShard ? now - ((now - Number(discordEpoch) - onShard[0]) % onShard[1]) : now;
  return {
    id: snowflake(at),
    name,
    channels: [
      { id: channelId, name: 'general', type: 0 },
      { id: snowflake(), name: 'deepseek-thread', type: 11, parentId: channelId },
    ],
  };
}

/** The channel object Discord embeds in payloads for a fake channel. */
export function channelPayload(guild: FakeGuild, channel: FakeChannel): APIChannel {
  if (channel.type === 11) {
    return {
      id: channel.id,
      type: 11,
      guild_id: guild.id,
      name: channel.name,
      parent_id: channel.parentId ?? null,
      owner_id: snowflake(),
      last_message_id: null,
      rate_limit_per_user: 0,
      message_count: 0,
      member_count: 1,
      thread_metadata: {
        archived: false,
        auto_archive_duration: 1440,
        archive_timestamp: new Date().toISOString(),
        locked: false,
      },
    } as APIChannel;
  }
  return {
    id: channel.id,
    type: 0,
    guild_id: guild.id,
    name: channel.name,
    position: 0,
    permission_overwrites: [],
    nsfw: false,
    parent_id: null,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
  } as APIChannel;
}

/** The GUILD_CREATE payload for a fake guild: just enough for discord.js to cache it and its channels. */
export function guildCreatePayload(guild: FakeGuild, botUser: APIUser) {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    owner_id: snowflake(),
    unavailable: false,
    large: false,
    member_count: 2,
    joined_at: new Date().toISOString(),
    preferred_locale: 'en-US',
    features: [],
    roles: [
      {
        id: guild.id,
        name: '@everyone',
        permissions: '1071698660929',
        position: 0,
        color: 0,
        hoist: false,
        managed: false,
        mentionable: false,
        flags: 0,
      },
    ],
    emojis: [],
    stickers: [],
    members: [memberPayload(botUser)],
    channels: guild.channels.filter((c) => c.type !== 11).map((c) => channelPayload(guild, c)),
    threads: guild.channels.filter((c) => c.type === 11).map((c) => channelPayload(guild, c)),
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

/** A guild member wrapping `user`, as in interaction and MESSAGE_CREATE payloads. */
export function memberPayload(user: APIUser): APIGuildMember {
  return {
    user,
    roles: [],
    joined_at: new Date().toISOString(),
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    nick: null,
    avatar: null,
    premium_since: null,
    pending: false,
    communication_disabled_until: null,
  };
}

/** Where an interaction or message happens: a guild channel or thread, or a DM with the bot. */
export type Place = { guild: FakeGuild; channel: FakeChannel } | { dmChannelId: string };

/** The channel id of a place. */
export function channelIdOf(place: Place): string {
  return 'dmChannelId' in place ? place.dmChannelId : place.channel.id;
}

/** Every field an interaction payload carries about its location and invoker; `at` is when it was created. */
function interactionEnvelope(
  place: Place,
  user: APIUser,
  applicationId: string,
  locale: string,
  at?: number,
) {
  const id = snowflake(at);
  const common = {
    id,
    application_id: applicationId,
    type: 2,
    token: `itk-${id}-${randomBytes(12).toString('hex')}`,
    version: 1,
    app_permissions: '2248473465835073',
    locale,
    entitlements: [],
    attachment_size_limit: 10_485_760,
  };
  if ('dmChannelId' in place) {
    return {
      ...common,
      channel: { id: place.dmChannelId, type: 1, recipients: [user], last_message_id: null, flags: 0 },
      channel_id: place.dmChannelId,
      user,
      authorizing_integration_owners: { '0': '0' },
      context: 1,
    };
  }
  return {
    ...common,
    guild_id: place.guild.id,
    guild: { id: place.guild.id, locale: 'en-US', features: [] },
    guild_locale: 'en-US',
    channel: channelPayload(place.guild, place.channel),
    channel_id: place.channel.id,
    member: { ...memberPayload(user), permissions: '2248473465835073' },
    authorizing_integration_owners: { '0': place.guild.id },
    context: 0,
  };
}

/** Options of a slash command as the user filled them in. */
export type SlashOptions = Record<string, string | boolean>;

/** An INTERACTION_CREATE payload for a slash command (`/ask question:… private:true`). */
export function slashCommandInteraction(input: {
  applicationId: string;
  place: Place;
  user: APIUser;
  name: string;
  options?: SlashOptions;
  locale?: string;
  /** When the interaction was created (ms since the epoch); default now. */
  createdAt?: number;
}) {
  const options: APIApplicationCommandInteractionDataOption[] = Object.entries(input.options ?? {}).map(
    ([name, value]) => (typeof value === 'boolean' ? { name, type: 5, value } : { name, type: 3, value }),
  );
  const envelope = interactionEnvelope(
    input.place,
    input.user,
    input.applicationId,
    input.locale ?? 'en-US',
    input.createdAt,
  );
  return {
    ...envelope,
    data: {
      id: snowflake(),
      name: input.name,
      type: 1,
      options,
      ...('guild_id' in envelope ? { guild_id: envelope.guild_id } : {}),
    },
  };
}

/** An INTERACTION_CREATE payload for a message context-menu command used on `target`. */
export function messageCommandInteraction(input: {
  applicationId: string;
  place: Place;
  user: APIUser;
  name: string;
  target: APIMessage;
  locale?: string;
}) {
  const envelope = interactionEnvelope(input.place, input.user, input.applicationId, input.locale ?? 'en-US');
  return {
    ...envelope,
    data: {
      id: snowflake(),
      name: input.name,
      type: 3,
      target_id: input.target.id,
      resolved: { messages: { [input.target.id]: input.target } },
    },
  };
}

/**
 * An INTERACTION_CREATE payload for a press on a button (`custom_id`) of `message`: type 3 (MESSAGE_COMPONENT),
 * component type 2 (button), carrying the message the button is on.
 * See Discord's API documentation: Interactions › Receiving and Responding › Interaction Object.
 */
export function buttonInteraction(input: {
  applicationId: string;
  place: Place;
  user: APIUser;
  message: APIMessage;
  customId: string;
  locale?: string;
}) {
  const envelope = interactionEnvelope(input.place, input.user, input.applicationId, input.locale ?? 'en-US');
  return {
    ...envelope,
    type: 3,
    message: input.message,
    data: { custom_id: input.customId, component_type: 2 },
  };
}

/**
 * A message written by a user, as MESSAGE_CREATE carries it. `mentions` lists users pinged in the text;
 * `replyTo` makes it a reply (type 19) that, like Discord's default reply, also pings the replied author.
 */
export function userMessage(input: {
  place: Place;
  author: APIUser;
  content: string;
  mentions?: APIUser[];
  replyTo?: APIMessage;
}): APIMessage & { guild_id?: string; member?: Omit<APIGuildMember, 'user'>; channel_type: number } {
  const guildId = 'guild' in input.place ? input.place.guild.id : undefined;
  const channelType = 'guild' in input.place ? input.place.channel.type : 1;
  const { user: _user, ...member } = memberPayload(input.author);
  const channelId = 'dmChannelId' in input.place ? input.place.dmChannelId : input.place.channel.id;
  const mentions = [...(input.mentions ?? [])];
  if (input.replyTo && !mentions.some((u) => u.id === input.replyTo?.author.id)) {
    mentions.push(input.replyTo.author);
  }
  return {
    id: snowflake(),
    channel_id: channelId,
    channel_type: channelType,
    ...(guildId ? { guild_id: guildId, member } : {}),
    author: input.author,
    content: input.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions,
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: input.replyTo ? 19 : 0,
    components: [],
    ...(input.replyTo
      ? {
          message_reference: {
            type: 0,
            message_id: input.replyTo.id,
            channel_id: input.replyTo.channel_id,
            ...(guildId ? { guild_id: guildId } : {}),
          },
          referenced_message: input.replyTo,
        }
      : {}),
  } as APIMessage & { guild_id?: string; member?: Omit<APIGuildMember, 'user'>; channel_type: number };
}
