import { describe, expect, it } from 'vitest';
import { askCommand } from '../../commands/ask.ts';
import type { CommandSpec } from '../../commands/command.ts';
import { parseCommandArgs } from '../../commands/parse-args.ts';
import { InputError } from '../../src/core/errors.ts';

const ask = askCommand as unknown as CommandSpec;

/** The sentence a user sees for `raw` options of /ask, in `language`. */
function problem(raw: Record<string, unknown>, language: 'en' | 'zh'): string {
  try {
    parseCommandArgs(ask, raw, language);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('the options were accepted');
}

describe('command options a user got wrong', () => {
  it('passes valid options through', () => {
    expect(parseCommandArgs(ask, { question: 'Who?', private: true }, 'en')).toEqual({
      question: 'Who?',
      private: true,
    });
  });

  it.each([
    [{ private: true }, '/ask needs the "question" option.', '/ask 需要填写“question”选项。'],
    [
      { question: 'x'.repeat(20_001) },
      'The "question" option of /ask is too long: at most 20,000 characters.',
      '/ask 的“question”选项太长了，最多 20000 个字符。',
    ],
    [
      { question: 'Who?', private: 'yes' },
      'The "private" option of /ask must be true or false.',
      '/ask 的“private”选项只能是 true 或 false。',
    ],
    [{ question: 42 }, 'The "question" option of /ask must be text.', '/ask 的“question”选项必须是文字。'],
  ])('names the option and what is wrong with %j, in English and Chinese', (raw, en, zh) => {
    expect(problem(raw, 'en')).toBe(en);
    expect(problem(raw, 'zh')).toBe(zh);
  });

  it("never shows zod's own wording", () => {
    for (const raw of [{}, { question: null }, { question: ['a'] }, { question: 'x'.repeat(20_001) }]) {
      for (const language of ['en', 'zh'] as const) {
        expect(problem(raw, language)).not.toMatch(/Invalid input|expected|received|Too big|<=/i);
      }
    }
  });
});
