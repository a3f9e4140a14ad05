import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { cleanQuestion, detectLanguage, languageOf, languageOfLocale } from '../../src/core/question.ts';

describe('question cleaning', () => {
  it('trims and removes control and zero-width characters', () => {
    expect(cleanQuestion('  Who\u200b founded\u0007 DeepSeek?\u200d ', 100)).toBe('Who founded  DeepSeek?');
  });

  it('repairs invalid UTF-16 instead of passing it on', () => {
    expect(cleanQuestion('DeepSeek \ud800?', 100)).toBe('DeepSeek \ufffd?');
  });

  it('rejects empty and whitespace-only questions with a usable example', () => {
    expect(() => cleanQuestion(' \n\t\u200b', 100)).toThrow(InputError);
    expect(() => cleanQuestion('', 100)).toThrow(/Who founded DeepSeek/);
  });

  it('rejects over-long questions, counting characters rather than UTF-16 units', () => {
    expect(cleanQuestion('深'.repeat(10), 10)).toHaveLength(10);
    expect(() => cleanQuestion('深'.repeat(11), 10)).toThrow(/11 characters long; the limit is 10/);
    expect(cleanQuestion('🎉'.repeat(10), 10)).toHaveLength(20);
  });

  it('detects Chinese questions by script', () => {
    expect(detectLanguage('DeepSeek的创始人是谁？')).toBe('zh');
    expect(detectLanguage('Who founded DeepSeek?')).toBe('en');
  });
});

describe('reply language', () => {
  it('follows the words given, and the interface language when there are none', () => {
    expect(languageOf('Who founded DeepSeek?', 'zh')).toBe('en');
    expect(languageOf('DeepSeek的创始人是谁？', 'en')).toBe('zh');
    expect(languageOf('  ', 'zh')).toBe('zh');
  });

  it('reads Telegram and Discord locales alike: any Chinese variant is Chinese', () => {
    expect(['zh-hans', 'zh-CN', 'zh-TW', 'ZH'].map(languageOfLocale)).toEqual(['zh', 'zh', 'zh', 'zh']);
    expect(['en-US', 'de', undefined, null].map(languageOfLocale)).toEqual(['en', 'en', 'en', 'en']);
  });
});
