import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { type ProviderName, providerNames, providerPresets } from './providers.ts';
import { maxTopicChars, type Topic } from './topic.ts';

const onOff = z.enum(['on', 'off']);
const positiveInt = z.coerce.number().int().positive();
const idList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^-?\d+$/, 'must be a comma-separated list of numeric ids')));
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined));
const url = z.url({ protocol: /^https?$/ });
const tokenBudget = z.coerce
  .number({ error: 'must be a whole number of tokens' })
  .int('must be a whole number of tokens')
  .min(0, 'must be 0 (no budget) or more')
  .optional();
const pricePerM = z.coerce
  .number({ error: 'must be a price per million tokens, e.g. 0.3' })
  .min(0, 'must not be negative')
  .optional();

const topicLine = z
  .string()
  .max(maxTopicChars, `must be at most ${maxTopicChars} characters`)
  .regex(/^[^\r\n]*$/, 'must be one line')
  .optional();

/**
 * Every setting Poquan reads, as it appears in the environment. Parsed once at start-up; the rest of the
 * program receives the typed `Config`, never `process.env`.
 */
export const EnvSchema = z.object({
  KNOWLEDGE_DIR: z.string().min(1).default('knowledge'),
  STORE_URL: z
    .string()
    .regex(/^(sqlite|memory|redis|rediss):\/\//, 'must start with sqlite://, memory:// or redis://')
    .default('sqlite://data/poquan.sqlite'),
  STORE_NAMESPACE: z
    .string()
    .regex(/^[\w.-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores')
    .default('poquan'),
  STORE_FALLBACK: z.enum(['none', 'memory']).default('none'),

  LLM_PROVIDER: z.enum(providerNames).default('deepseek'),
  LLM_BASE_URL: url.optional(),
  LLM_MODEL: optionalText,
  LLM_API_KEY: optionalText,
  LLM_THINKING: onOff.default('on'),
  LLM_TIMEOUT_MS: positiveInt.default(60_000),
  LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  LLM_MAX_TOKENS: positiveInt.default(2000),

  RETRIEVAL_TOP_K: z.coerce.number().int().min(1).max(20).default(4),
  RELEVANCE_FLOOR: z.coerce
    .number({ error: 'must be a number, e.g. 6 (`poquan eval` recommends one)' })
    .min(0, 'must be 0 or more')
    .default(6),
  BOT_TOPIC: optionalText.pipe(topicLine),
  BOT_TOPIC_ZH: optionalText.pipe(topicLine),
  CONTEXT_MODE: z.enum(['auto', 'full', 'retrieve']).default('auto'),
  CONTEXT_BUDGET_TOKENS: positiveInt.default(16_000),
  FOLLOW_UP_REWRITE_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  MAX_QUESTION_CHARS: z.coerce.number().int().min(10).max(20_000).default(1000),
  MEMORY_TURNS: z.coerce.number().int().min(0).max(50).default(6),
  MEMORY_TTL_HOURS: positiveInt.default(24 * 7),
  ANSWER_CACHE_TTL_HOURS: z.coerce.number().min(0).default(24),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6),
  BUDGET_USER_DAILY_TOKENS: tokenBudget,
  BUDGET_DAILY_TOKENS: tokenBudget,
  BUDGET_RESET_UTC_HOUR: z.coerce.number().int().min(0).max(23, 'must be an hour from 0 to 23').default(0),
  BUDGET_EXEMPT_ADMINS: z.stringbool().default(false),
  BUDGET_COUNT_CACHED_TOKENS: z.enum(['full', 'none']).default('full'),
  LLM_PRICE_INPUT_PER_M: pricePerM,
  LLM_PRICE_CACHED_INPUT_PER_M: pricePerM,
  LLM_PRICE_OUTPUT_PER_M: pricePerM,
  LLM_PRICE_CURRENCY: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be a three-letter currency code such as USD or CNY')
      .optional(),
  ),
  DEFAULT_LANGUAGE: z.enum(['auto', 'en', 'zh']).default('auto'),

  SHOW_REASONING: z.enum(['off', 'collapsed']).default('collapsed'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
  PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),

  TELEGRAM_BOT_TOKEN: optionalText,
  TELEGRAM_API_ROOT: url.default('https://api.telegram.org'),
  TELEGRAM_ALLOWED_CHAT_IDS: idList,
  TELEGRAM_ADMIN_IDS: idList,
  TELEGRAM_WEBHOOK_URL: url.optional(),
  TELEGRAM_WEBHOOK_SECRET: optionalText.pipe(
    z
      .string()
      .regex(/^[\w-]{1,256}$/, 'must be 1-256 letters, digits, underscores or dashes, as Telegram requires')
      .optional(),
  ),
  TELEGRAM_WEBHOOK_LEASE_MS: z.coerce
    .number()
    .int()
    .min(300, 'must be at least 300 (milliseconds)')
    .max(600_000, 'must be at most 600000 (ten minutes)')
    .default(15_000),

  DISCORD_TOKEN: optionalText,
  DISCORD_APPLICATION_ID: optionalText.pipe(z.string().regex(/^\d+$/, 'must be a numeric id').optional()),
  DISCORD_API_BASE: url.default('https://discord.com/api'),
  DISCORD_GUILD_ID: optionalText.pipe(z.string().regex(/^\d+$/, 'must be a numeric id').optional()),
  DISCORD_ALLOWED_GUILD_IDS: idList,
  DISCORD_ADMIN_IDS: idList,
  // No default here: SHARD_IDS needs to know whether SHARD_COUNT was set (unset means 1, see `toConfig`).
  SHARD_COUNT: z
    .string()
    .regex(/^(auto|[1-9]\d*)$/, 'must be auto or a whole number of shards (1 = unsharded)')
    .optional(),
  SHARD_IDS: z
    .string()
    .regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'must be a comma-separated list of shard ids, e.g. 0,1')
    .transform((value) => value.split(',').map(Number))
    .refine((ids) => new Set(ids).size === ids.length, 'must not name a shard twice')
    .optional(),

  FEEDBACK_RETENTION_DAYS: positiveInt.default(180),
  HANDOFF_TELEGRAM_USERNAME: optionalText.pipe(
    z
      .string()
      .regex(/^@?[A-Za-z][A-Za-z0-9_]{4,31}$/, 'must be a Telegram username such as @poquan_help')
      .optional(),
  ),
  HANDOFF_DISCORD_ROLE_ID: optionalText.pipe(
    z.string().regex(/^\d+$/, 'must be a numeric role id').optional(),
  ),
});

/** `EnvSchema` with the rules that relate settings to each other; `loadConfig` parses with it. */
const CheckedEnvSchema = EnvSchema.superRefine((env, context) => {
  // Instances of one bot split its shards: each needs the same total, and ids from that total.
  // Zod runs this even when a field failed, with that field's raw value: bad ids are already reported.
  if (!Array.isArray(env.SHARD_IDS)) return;
  const count = Number(env.SHARD_COUNT);
  const outside = env.SHARD_IDS.filter((id) => id >= count);
  if (env.SHARD_COUNT === undefined || env.SHARD_COUNT === 'auto') {
    context.addIssue({
      code: 'custom',
      path: ['SHARD_IDS'],
      message:
        'needs SHARD_COUNT set to the total number of shards of all instances (a number, not auto), e.g. SHARD_COUNT=3',
    });
  } else if (outside.length > 0) {
    context.addIssue({
      code: 'custom',
      path: ['SHARD_IDS'],
      message: `shard ids run from 0 to ${count - 1} with SHARD_COUNT=${count}, so ${outside.join(', ')} cannot be run`,
    });
  }
});

/** How answers are produced: by a model, or extracted from passages when no model is configured. */
export type AnswerMode = 'llm' | 'offline';

/** `CONTEXT_MODE`: every passage in the prompt (`full`), the top passages (`retrieve`), or by size (`auto`). */
export type ContextMode = 'auto' | 'full' | 'retrieve';

function toConfig(env: z.infer<typeof EnvSchema>) {
  const preset = providerPresets[env.LLM_PROVIDER as ProviderName];
  const hasModelEndpoint =
    env.LLM_API_KEY !== undefined || env.LLM_BASE_URL !== undefined || !preset.needsApiKey;
  return {
    knowledgeDir: env.KNOWLEDGE_DIR,
    storeUrl: env.STORE_URL,
    storeNamespace: env.STORE_NAMESPACE,
    /** `memory`: a SQLite file that cannot be opened at start is replaced by memory (with a warning), not fatal. */
    storeFallback: env.STORE_FALLBACK,
    llm: {
      mode: (hasModelEndpoint ? 'llm' : 'offline') as AnswerMode,
      provider: env.LLM_PROVIDER as ProviderName,
      baseUrl: (env.LLM_BASE_URL ?? preset.baseUrl).replace(/\/+$/, ''),
      model: env.LLM_MODEL ?? preset.model,
      apiKey: env.LLM_API_KEY,
      thinking: env.LLM_THINKING === 'on',
      timeoutMs: env.LLM_TIMEOUT_MS,
      maxRetries: env.LLM_MAX_RETRIES,
      maxTokens: env.LLM_MAX_TOKENS,
    },
    /** `relevanceFloor`: the BM25 score below which a passage is noise, not an answer. */
    retrieval: { topK: env.RETRIEVAL_TOP_K, relevanceFloor: env.RELEVANCE_FLOOR },
    /** Set: what the bot answers questions about, overriding the knowledge's front matter (see `resolveTopic`). */
    topic:
      env.BOT_TOPIC && env.BOT_TOPIC_ZH ? ({ en: env.BOT_TOPIC, zh: env.BOT_TOPIC_ZH } as Topic) : undefined,
    /** `auto` gives the model every passage while the whole knowledge fits `budgetTokens` (estimated). */
    context: { mode: env.CONTEXT_MODE as ContextMode, budgetTokens: env.CONTEXT_BUDGET_TOKENS },
    /** A follow-up's search query is rewritten by the model within this time; 0 (default) = the lexical rule only. */
    followUpRewriteTimeoutMs: env.FOLLOW_UP_REWRITE_TIMEOUT_MS,
    maxQuestionChars: env.MAX_QUESTION_CHARS,
    memory: { turns: env.MEMORY_TURNS, ttlMs: env.MEMORY_TTL_HOURS * 3_600_000 },
    answerCacheTtlMs: env.ANSWER_CACHE_TTL_HOURS * 3_600_000,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    /** Daily token budgets; 0 or unset means none. Each day starts at `resetUtcHour`:00 UTC. */
    budget: {
      userDailyTokens: env.BUDGET_USER_DAILY_TOKENS || undefined,
      dailyTokens: env.BUDGET_DAILY_TOKENS || undefined,
      resetUtcHour: env.BUDGET_RESET_UTC_HOUR,
      exemptAdmins: env.BUDGET_EXEMPT_ADMINS,
      /** `full`: cache-hit prompt tokens count like any other; `none`: they count nothing. */
      countCachedTokens: env.BUDGET_COUNT_CACHED_TOKENS,
    },
    /** The operator's price table, replacing the preset's when set; see `resolvePrices`. */
    prices: {
      inputPerM: env.LLM_PRICE_INPUT_PER_M,
      cachedInputPerM: env.LLM_PRICE_CACHED_INPUT_PER_M,
      outputPerM: env.LLM_PRICE_OUTPUT_PER_M,
      currency: env.LLM_PRICE_CURRENCY,
    },
    /** Language of interface texts when a message gives no signal; `auto` follows the user's app language. */
    defaultLanguage: env.DEFAULT_LANGUAGE,
    showReasoning: env.SHOW_REASONING,
    /** Unset means each entry point picks its own default (the bot logs info, the CLI only warnings). */
    logLevel: env.LOG_LEVEL,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    /** Set: serve /healthz, /readyz, /metrics (and webhooks) on this port. */
    http: env.PORT === undefined ? undefined : { port: env.PORT, host: env.HTTP_HOST },
    telegram: {
      token: env.TELEGRAM_BOT_TOKEN,
      apiRoot: env.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
      allowedChatIds: env.TELEGRAM_ALLOWED_CHAT_IDS,
      /** Telegram user ids that may run operator commands (`/reload`, `/stats`); empty = nobody. */
      adminIds: env.TELEGRAM_ADMIN_IDS,
      /**
       * Set: updates arrive as webhooks on the HTTP server (`PORT`) at the URL's path, instead of long polling.
       * The secret is what Telegram sends in `X-Telegram-Bot-Api-Secret-Token`. An update an instance holds is
       * taken over by another once the holder has not renewed it for `leaseMs` (it was killed).
       */
      webhook:
        env.TELEGRAM_WEBHOOK_URL && env.TELEGRAM_WEBHOOK_SECRET
          ? {
              url: env.TELEGRAM_WEBHOOK_URL,
              path: new URL(env.TELEGRAM_WEBHOOK_URL).pathname,
              secret: env.TELEGRAM_WEBHOOK_SECRET,
              leaseMs: env.TELEGRAM_WEBHOOK_LEASE_MS,
            }
          : undefined,
    },
    discord: {
      token: env.DISCORD_TOKEN,
      applicationId: env.DISCORD_APPLICATION_ID,
      apiBase: env.DISCORD_API_BASE.replace(/\/+$/, ''),
      guildId: env.DISCORD_GUILD_ID,
      allowedGuildIds: env.DISCORD_ALLOWED_GUILD_IDS,
      /** Discord user ids that may run operator commands (`/reload`, `/stats`); empty = nobody. */
      adminIds: env.DISCORD_ADMIN_IDS,
      /** Gateway shards of the whole bot: `'auto'` takes Discord's recommendation; 1 means unsharded. */
      shards: env.SHARD_COUNT === 'auto' ? ('auto' as const) : Number(env.SHARD_COUNT ?? 1),
      /** The shards this process runs (`SHARD_IDS`); unset means all of them. */
      shardIds: env.SHARD_IDS,
    },
    feedback: { retentionMs: env.FEEDBACK_RETENTION_DAYS * 86_400_000 },
    /** Who a user is pointed to when the bot can't help; unset means no hand-off line. */
    handoff: {
      telegramUsername: env.HANDOFF_TELEGRAM_USERNAME?.replace(/^@/, ''),
      discordRoleId: env.HANDOFF_DISCORD_ROLE_ID,
    },
  };
}

/** The validated, typed settings every part of Poquan receives. */
export type Config = ReturnType<typeof toConfig>;

/**
 * The configured values that must never be printed: the model key, both bot tokens, the webhook secret and the
 * password in `STORE_URL` (as written there, URL-encoded, and decoded). The logger scrubs them from every line.
 */
export function secretsOf(config: Config): string[] {
  const secrets = [
    config.llm.apiKey,
    config.telegram.token,
    config.telegram.webhook?.secret,
    config.discord.token,
  ];
  const storePassword = URL.canParse(config.storeUrl) ? new URL(config.storeUrl).password : '';
  if (storePassword) {
    secrets.push(storePassword);
    try {
      secrets.push(decodeURIComponent(storePassword));
    } catch {
      // A stray % is not an escape: the password is as written.
    }
  }
  return secrets.filter((secret): secret is string => Boolean(secret));
}

/** Values an entry point supplies for settings the environment leaves unset or empty, e.g. the image's PORT. */
export type ConfigFallbacks = Partial<Record<keyof typeof EnvSchema.shape, string | undefined>>;

/**
 * Validates the environment into a `Config`. An empty value means unset (as `.env.example` copied into
 * `docker run --env-file` leaves most settings), so the fallback, then the schema's default, applies.
 * Throws one `ConfigError` whose message names each bad variable and what is wrong with it; values are
 * never echoed, so a mistyped secret is not leaked.
 */
export function loadConfig(env: Record<string, string | undefined>, fallbacks: ConfigFallbacks = {}): Config {
  const relevant = Object.fromEntries(
    Object.keys(EnvSchema.shape).map((key) => [
      key,
      (env[key] || undefined) ?? fallbacks[key as keyof ConfigFallbacks],
    ]),
  );
  const parsed = CheckedEnvSchema.safeParse(relevant);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  // Without a secret, anyone who finds the webhook URL could post forged updates.
  if (parsed.data.TELEGRAM_WEBHOOK_URL && !parsed.data.TELEGRAM_WEBHOOK_SECRET) {
    throw new ConfigError(
      'Invalid configuration: TELEGRAM_WEBHOOK_SECRET: is required when TELEGRAM_WEBHOOK_URL is set (e.g. the output of `openssl rand -hex 32`)',
    );
  }
  // A topic in one language only would leave the other language's users with the default topic's wording.
  const { BOT_TOPIC, BOT_TOPIC_ZH } = parsed.data;
  if ((BOT_TOPIC === undefined) !== (BOT_TOPIC_ZH === undefined)) {
    const missing = BOT_TOPIC === undefined ? 'BOT_TOPIC' : 'BOT_TOPIC_ZH';
    throw new ConfigError(
      `Invalid configuration: ${missing}: is required when ${missing === 'BOT_TOPIC' ? 'BOT_TOPIC_ZH' : 'BOT_TOPIC'} is set (the topic line in English and in Chinese)`,
    );
  }
  // Half a price table would mix the operator's prices with the preset's, possibly in another currency.
  const prices = parsed.data;
  const priceSettings = [
    'LLM_PRICE_INPUT_PER_M',
    'LLM_PRICE_OUTPUT_PER_M',
    'LLM_PRICE_CACHED_INPUT_PER_M',
    'LLM_PRICE_CURRENCY',
  ] as const;
  if (priceSettings.some((name) => prices[name] !== undefined)) {
    const missing = priceSettings.slice(0, 2).find((name) => prices[name] === undefined);
    if (missing) {
      throw new ConfigError(
        `Invalid configuration: ${missing}: is required when any LLM_PRICE_* setting is set (prices replace the preset's as a whole)`,
      );
    }
  }
  return toConfig(parsed.data);
}
