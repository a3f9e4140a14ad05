import { InputError } from '../src/core/errors.ts';
import type { ReplyLanguage } from '../src/core/question.ts';
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
  const zh = language === 'zh';
  const command = `/${spec.name}`;
  const name = String(issue.path[0] ?? '');
  const option = describeOptions(spec).find((candidate) => candidate.name === name);
  if (!option) {
    return zh
      ? `无法读取 ${command} 的选项，请查看 /help。`
      : `I couldn't read the options of ${command}. See /help.`;
  }
  if (raw[name] === undefined) {
    return zh ? `${command} 需要填写“${name}”选项。` : `${command} needs the "${name}" option.`;
  }
  if (issue.code === 'too_big' && option.maxLength !== undefined) {
    return zh
      ? `${command} 的“${name}”选项太长了，最多 ${option.maxLength} 个字符。`
      : `The "${name}" option of ${command} is too long: at most ${option.maxLength.toLocaleString('en')} characters.`;
  }
  if (issue.code === 'invalid_type') {
    if (option.type === 'boolean') {
      return zh
        ? `${command} 的“${name}”选项只能是 true 或 false。`
        : `The "${name}" option of ${command} must be true or false.`;
    }
    return zh ? `${command} 的“${name}”选项必须是文字。` : `The "${name}" option of ${command} must be text.`;
  }
  return zh
    ? `${command} 的“${name}”选项无效，请查看 /help。`
    : `The "${name}" option of ${command} is not valid. See /help.`;
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
