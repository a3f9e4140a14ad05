import type { z } from 'zod';
import type { ReplyLanguage } from '../src/core/question.ts';
import type { Topic } from '../src/core/topic.ts';
import type { Poquan } from '../src/poquan.ts';

/** Text in each language Poquan speaks; platforms map these to their own locale codes. */
export interface Localized {
  en: string;
  zh: string;
}

/** Where a command runs. */
export type CommandPlatform = 'telegram' | 'discord' | 'cli';

/** Everything a command handler may use: the core, and who is asking where. */
export interface CommandContext {
  poquan: Poquan;
  /** Where the command was typed, for replies that differ by platform (such as `/help`). */
  platform: CommandPlatform;
  /** Chosen by the adapter: a Telegram chat (and topic), a Discord thread or DM, a CLI session. */
  conversationId: string;
  /** Platform-qualified user id (`telegram:42`; `cli` in the terminal), used for rate limits and budgets. */
  userKey: string;
  language: ReplyLanguage;
}

/**
 * What a handler returns; adapters render it and never decide content themselves. `answer` asks the
 * adapter to stream `poquan.answer(question)`, because streaming is a platform concern.
 */
export type CommandReply =
  | {
      type: 'message';
      text: string;
      /** Set when the question was turned away by a limit, so the CLI can exit with its own code. */
      refused?: 'budget' | 'rate_limit';
    }
  | { type: 'answer'; question: string };

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

/** Pick the wording for the asker's language. */
export function localize(text: Localized, language: ReplyLanguage): string {
  return text[language];
}
