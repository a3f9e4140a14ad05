/**
 * Every key family Poquan keeps in the shared store, with how long an entry lives. Modules build keys only
 * through these functions, so two families never collide and a reader of this file sees all shared state.
 * Keys are written without the `STORE_NAMESPACE` prefix; the store adds it.
 */
export const storeKeys = {
  /** A conversation's last `MEMORY_TURNS` turns. TTL: `MEMORY_TTL_HOURS` after the latest turn. */
  conversation: (conversationId: string) => `conversation:${conversationId}`,
  /** A finished first-turn answer, by hash of question, knowledge version and model. TTL: `ANSWER_CACHE_TTL_*`. */
  answerCache: (hash: string) => `answer:${hash}`,
  /** A user's questions in the last minute (a sliding window). TTL: one minute after the latest question. */
  rateWindow: (userKey: string) => `ratelimit:${userKey}`,
  /**
   * Claimed by the first refusal until the user may ask again, so one notice is sent. TTL: until `reopensAt`.
   */
  rateLimitNotice: (userKey: string, reopensAt: number) => `ratelimit-notice:${userKey}:${reopensAt}`,
  /**
   * Claimed when a turn (`Turn.id`: a Telegram update, a Discord interaction or message) takes its place in the
   * rate window, so a replay of it takes none. TTL: 24 hours, as long as a turn can be replayed.
   */
  rateLimitTurn: (turnId: string) => `ratelimit-turn:${turnId}`,
  /** Tokens the bot used in a budget day. TTL: to the end of the following budget day. */
  botTokens: (day: string) => `budget:bot:${day}`,
  /** Tokens a user used in a budget day. TTL: to the end of the following budget day. */
  userTokens: (userKey: string, day: string) => `budget:user:${userKey}:${day}`,
  /** Answers a user got in a budget day. TTL: to the end of the following budget day. */
  userAnswers: (userKey: string, day: string) => `budget:answers:${userKey}:${day}`,
  /** Claimed when a turn's answer is counted in `userAnswers`, so a replay's is not. TTL: 24 hours, as above. */
  budgetAnswerTurn: (turnId: string) => `budget:answer-turn:${turnId}`,
  /** The random salt user ids are hashed with in feedback records. No TTL: votes must keep matching. */
  feedbackSalt: 'feedback:salt',
  /** A delivered answer's record. TTL: `FEEDBACK_RETENTION_DAYS`. */
  feedbackAnswer: (answerId: string) => `feedback:answer:${answerId}`,
  /** One user's vote on one answer. TTL: `FEEDBACK_RETENTION_DAYS` after the latest change. */
  feedbackVote: (answerId: string, userHash: string) => `feedback:vote:${answerId}:${userHash}`,
  /** The list of answer ids delivered on a UTC day. TTL: `FEEDBACK_RETENTION_DAYS` after the latest. */
  answersOfDay: (day: string) => `feedback:answers-by-day:${day}`,
  /** The list of vote keys first cast on a UTC day. TTL: `FEEDBACK_RETENTION_DAYS` after the latest. */
  votesOfDay: (day: string) => `feedback:votes-by-day:${day}`,
  /** Claimed by the first 👎 on an answer, so the hand-off is posted once. TTL: `FEEDBACK_RETENTION_DAYS`. */
  feedbackHandoff: (answerId: string) => `feedback:handoff:${answerId}`,
  /** Which conversation and turn a public Discord answer message belongs to. TTL: `MEMORY_TTL_HOURS`. */
  discordAnswerMessage: (messageId: string) => `discord:message:${messageId}`,
  /** Claimed by the process that handles a Discord event (a shard redelivering it is ignored). TTL: 15 minutes. */
  discordEventClaim: (eventKey: string) => `discord:${eventKey}`,
  /** The set of ids of Discord answers in flight on any instance. No TTL: ids are removed as answers finish. */
  discordInFlightIndex: 'discord:in-flight',
  /** One Discord answer in flight: where it is shown and who holds it. TTL: 24 hours. */
  discordInFlight: (id: string) => `discord:in-flight:${id}`,
  /** Renewed by a live Discord instance; once lapsed, its answers in flight are taken over. TTL: 10 seconds. */
  discordInstanceLease: (owner: string) => `discord:instance:${owner}`,
  /** Claimed by the instance that takes over one answer of a lapsed owner. TTL: 24 hours. */
  discordResumeClaim: (id: string, owner: string) => `discord:resume:${id}:${owner}`,
  /** The durable queue of a Telegram bot's webhook updates (a Redis stream or a SQLite table). Items: 24 hours. */
  telegramUpdateQueue: (botId: number) => `telegram:${botId}:updates`,
  /**
   * The messages one attempt at answering an update sent (1 the first), so a later one edits them. The first
   * attempt's key is the one versions before per-attempt records used for every attempt, so a replay just after
   * an upgrade still finds what the old version sent. TTL: 24 hours.
   */
  telegramPreview: (botId: number, updateId: number, attempt: number) =>
    `telegram:${botId}:preview:${updateId}${attempt === 1 ? '' : `:${attempt}`}`,
  /** The latest attempt at answering an update: an earlier one still running stops. TTL: 24 hours. */
  telegramAttempt: (botId: number, updateId: number) => `telegram:${botId}:preview:${updateId}:attempt`,
  /** Written once an update's final reply is delivered, so a replay stops there. TTL: 24 hours. */
  telegramDelivered: (botId: number, updateId: number) => `telegram:${botId}:preview:${updateId}:delivered`,
  /** Telegram updates received by long polling but not finished yet. No TTL: rewritten as updates settle. */
  telegramInbox: 'telegram:inbox',
  /** Written by `poquan doctor` to prove the store takes writes. TTL: 10 seconds. */
  doctorWriteTest: 'doctor:write-test',
} as const;
