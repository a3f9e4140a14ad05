import { catalogFor } from '#core/catalog/catalog.js';
import { InputError } from '#core/errors.js';
import type { ReplyLanguage } from '#core/question.js';
import { type CommandSpec, describeOptions } from './command.ts';

/** One validation failure, as much of zod's issue as the sentence needs. */
interface ArgsIssue {
  code: string;
  path: PropertyKey[];
}

/**
 * The sentence for the first thing wrong with a command's options, in the asker's language, naming the command and
 * the option: missing, too long, of the wrong type, or otherwise invalid. Zod's own wording is written for
 * developers and never reaches a user.
 */
export function describeArgsProblem(
  spec: CommandSpec,
  issue: ArgsIssue,
  raw: Record<string, unknown>,
  language: ReplyLanguage,
): string {
  const { errors } = catalogFor(language);
  const command = `/${spec.name}`;
  const name = String(issue.path[0] ?? '');
  const option = describeOptions(spec).find((candidate) => candidate.name === name);
  if (!option) return errors.unreadableOptions(command);
  if (raw[name] === undefined) return errors.missingOption(command, name);
  if (issue.code === 'too_big' && option.maxLength !== undefined) {
    return errors.optionTooLong(command, name, option.maxLength);
  }
  if (issue.code === 'invalid_type') {
    return option.type === 'boolean'
      ? errors.optionNotBoolean(command, name)
      : errors.optionNotText(command, name);
  }
  return errors.optionInvalid(command, name);
}

/**
 * Validates a command's options (read by the adapter, whatever their types) with the command's schema. Throws an
 * `InputError` holding `describeArgsProblem`'s sentence when they don't fit.
 */
export function parseCommandArgs(
  spec: CommandSpec,
  raw: Record<string, unknown>,
  language: ReplyLanguage,
): Record<string, unknown> {
  const parsed = spec.args.safeParse(raw);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  throw new InputError(describeArgsProblem(spec, issue ?? { code: 'custom', path: [] }, raw, language));
}
