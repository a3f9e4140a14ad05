import type { z } from 'zod';
import type { AccessPolicy } from '#core/access.js';
import type { Budgets } from '#core/budget.js';
import type { ContextStrategy } from '#core/context.js';
import type { FeedbackStore } from '#core/feedback.js';
import type { KnowledgeBase } from '#core/knowledge.js';
import type { LlmClient } from '#core/llm.js';
import type { Logger } from '#core/logger.js';
import type { ConversationMemory } from '#core/memory.js';
import type { Metrics } from '#core/metrics.js';
import type { ReplyLanguage } from '#core/question.js';
import type { Topic } from '#core/topic.js';
import type { Asker, TurnEvent } from '#core/turn.js';

/** Text in each language Poquan speaks; platforms map these to their own locale codes. */
export interface Localized {
  en: string;
  zh: string;
}

/** Where a command runs. */
export type CommandPlatform = 'telegram' | 'discord' | 'cli';

/**
 * What commands may use of the assembled core, as ports: the one user turn, the knowledge, conversation memory,
 * limits, feedback and counters. Never the store, the model client's transport or an adapter. The composition
 * root's `Poquan` satisfies it; a test may hand a command just these.
 */
export interface CommandServices {
  /** One user turn: admitted, answered, recorded for feedback (see `core/turn.ts`). */
  ask: Asker;
  knowledge(): KnowledgeBase;
  topic(): Topic;
  /** Full-context or retrieve mode for the current knowledge version, and why. */
  context(): ContextStrategy;
  /** The configured model; undefined in offline mode. */
  llm: LlmClient | undefined;
  memory: ConversationMemory;
  budgets: Budgets;
  feedback: FeedbackStore;
  metrics: Metrics;
  access: AccessPolicy;
  logger: Logger;
  reloadKnowledge(): Promise<{ changed: boolean; version: string }>;
}

/** Everything a command handler may use: the core's services, and who is asking where. */
export interface CommandContext {
  services: CommandServices;
  /** Where the command was typed, for replies that differ by platform (such as `/help`). */
  platform: CommandPlatform;
  /** Chosen by the adapter: a Telegram chat (and topic), a Discord thread or DM, a CLI session. */
  conversationId: string;
  /** Platform-qualified user id (`telegram:42`; `cli` in the terminal), used for rate limits and budgets. */
  userKey: string;
  /** The platform event asking, stable when it is handled again after a restart (see `Turn.id`). */
  turnId?: string;
  /** The reply's language: that of the words given with the command, else the user's interface language. */
  language: ReplyLanguage;
  /** Aborted when the adapter shuts down; a streamed answer then ends early and is delivered as it is. */
  signal?: AbortSignal;
  /** The adapter's logger for this request. */
  log?: Logger;
}

/**
 * What a handler returns; adapters render it and never decide content themselves. A `stream` is an answer
 * being written: adapters show it as it grows, in `language`, and finish with its last event.
 */
export type CommandReply =
  | { type: 'message'; text: string }
  | {
      type: 'stream';
      /** The question being answered, as the asker wrote it: what a restarted process would ask again. */
      question: string;
      language: ReplyLanguage;
      events: AsyncGenerator<TurnEvent>;
    };

/** A platform-neutral command: declared once, registered on Telegram and Discord from the same spec. */
export interface CommandSpec<Args extends z.ZodObject = z.ZodObject> {
  /** Lower-case, `^[a-z0-9_]{1,32}$`, valid on both platforms. */
  name: string;
  /**
   * At most 100 characters in each language (Discord's limit; Telegram allows 256); a function when it names
   * the topic (see `describeCommand`).
   */
  description: Localized | ((topic: Topic) => Localized);
  /** Options; each field carries `.meta({ descriptions: Localized })`. */
  args: Args;
  /** Platforms where the command exists; all when absent. */
  platforms?: Array<'telegram' | 'discord' | 'cli'>;
  /**
   * Set by `defineOperatorCommand`, whose handler refuses everyone but the admins. Adapters only use it to
   * leave the command out of public menus; the refusal itself never depends on an adapter.
   */
  operatorOnly?: boolean;
  /**
   * The handler may reply with a `stream`. Discord acknowledges such a command publicly (everyone sees the
   * answer grow) unless its boolean option `private` is true; other commands are acknowledged privately.
   */
  streams?: boolean;
  /**
   * The string option a plain message fills: text sent to the bot without a command (Telegram), a mention or
   * "Ask Poquan" on a message (Discord) runs this command with the text in this option. One command has it.
   */
  plainTextOption?: string;
  handler(args: z.infer<Args>, context: CommandContext): Promise<CommandReply>;
}

/** Keeps a command's argument types when it is stored in the registry. */
export function defineCommand<Args extends z.ZodObject>(spec: CommandSpec<Args>): CommandSpec<Args> {
  return spec;
}

/** Discord's limit on a command description, the tighter of the two platforms'. */
export const maxDescriptionChars = 100;

/**
 * A command's description for the topic in force. A description naming a long topic could pass Discord's limit;
 * then the description for the topic without its words is used, so registration never fails on a topic.
 */
export function describeCommand(spec: CommandSpec, topic: Topic): Localized {
  if (typeof spec.description !== 'function') return spec.description;
  const described = spec.description(topic);
  const fits = (text: string) => text.length <= maxDescriptionChars;
  if (fits(described.en) && fits(described.zh)) return described;
  return spec.description({ en: 'the knowledge', zh: '知识库内容' });
}

/** A command option as platforms need to declare it. */
export interface CommandOption {
  name: string;
  type: 'string' | 'boolean';
  required: boolean;
  description: Localized;
  maxLength?: number;
}

/** Reads a command's zod args into plain option descriptions, so adapters never inspect zod internals. */
export function describeOptions(spec: CommandSpec): CommandOption[] {
  return Object.entries(spec.args.shape).map(([name, field]) => {
    const schema = field as z.ZodType;
    const inner = (schema.def.type === 'optional' ? (schema as z.ZodOptional).unwrap() : schema) as z.ZodType;
    const meta = (schema.meta() ?? inner.meta()) as { descriptions?: Localized } | undefined;
    if (!meta?.descriptions) throw new Error(`option ${spec.name}.${name} has no description`);
    const option: CommandOption = {
      name,
      type: inner.def.type === 'boolean' ? 'boolean' : 'string',
      required: !schema.safeParse(undefined).success,
      description: meta.descriptions,
    };
    const maxLength = (inner as z.ZodString).maxLength;
    if (typeof maxLength === 'number') option.maxLength = maxLength;
    return option;
  });
}
