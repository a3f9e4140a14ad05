import { describe, expect, it } from 'vitest';
import { askCommand } from '../../commands/ask.ts';
import { describeCommand } from '../../commands/command.ts';
import { loadConfig } from '../../src/core/config.ts';
import { notCoveredAnswer } from '../../src/core/offline-answer.ts';
import { systemRulesFor } from '../../src/core/prompt.ts';
import { defaultTopic, resolveTopic, topicFromFrontMatter } from '../../src/core/topic.ts';

const cafe = { en: 'the café', zh: '咖啡馆' };

describe('the topic', () => {
  it("is China's AI race by default, with its examples, in both languages", () => {
    expect(notCoveredAnswer('en')).toBe(
      'The knowledge file doesn\'t cover that. I can answer questions about China\'s AI race, such as DeepSeek, Qwen, the "six little tigers" or state AI funding.',
    );
    expect(notCoveredAnswer('zh')).toBe(
      '知识库没有涉及这个问题。我只能回答关于中国人工智能竞赛的问题，例如 DeepSeek、通义千问、“六小虎”或国家对人工智能的投资。',
    );
    expect(resolveTopic(undefined, undefined)).toBe(defaultTopic);
  });

  it('comes from the setting first, then the knowledge', () => {
    const knowledge = { en: 'robots', zh: '机器人' };
    expect(resolveTopic(cafe, knowledge)).toBe(cafe);
    expect(resolveTopic(undefined, knowledge)).toBe(knowledge);
    expect(systemRulesFor(knowledge)).toMatch(
      /^You are Poquan \(破圈\), an assistant that answers questions about robots using only/,
    );
  });

  it('is read from front matter only in both languages, one line each', () => {
    expect(topicFromFrontMatter({ title: 'x' })).toBeUndefined();
    expect(topicFromFrontMatter({ topic: ' the café ', topic_zh: '咖啡馆' })).toEqual(cafe);
    expect(topicFromFrontMatter({ topic: 'the café' })).toEqual({
      problem: 'sets topic but not topic_zh: give both languages',
    });
    expect(topicFromFrontMatter({ topic: 'a\nb', topic_zh: '咖啡馆' })).toEqual({
      problem: 'topic must be one line of text of at most 120 characters',
    });
  });

  it('needs BOT_TOPIC and BOT_TOPIC_ZH together', () => {
    expect(loadConfig({ BOT_TOPIC: 'the café', BOT_TOPIC_ZH: '咖啡馆' }).topic).toEqual(cafe);
    expect(() => loadConfig({ BOT_TOPIC: 'the café' })).toThrow(
      'BOT_TOPIC_ZH: is required when BOT_TOPIC is set (the topic line in English and in Chinese)',
    );
    expect(loadConfig({}).topic).toBeUndefined();
  });

  it("is named in command descriptions while they fit Discord's 100 characters", () => {
    expect(describeCommand(askCommand, cafe)).toEqual({
      en: 'Ask a question about the café; the answer cites its sources',
      zh: '提问关于咖啡馆的问题，回答附带出处',
    });
    const long = {
      en: 'the opening hours, menus, bookings, events and staff of the Harbour Lane Café',
      zh: '咖啡馆',
    };
    expect(describeCommand(askCommand, long).en).toBe(
      'Ask a question about the knowledge; the answer cites its sources',
    );
  });

  it('makes the relevance floor a setting, 6 by default', () => {
    expect(loadConfig({}).retrieval.relevanceFloor).toBe(6);
    expect(loadConfig({ RELEVANCE_FLOOR: '3.5' }).retrieval.relevanceFloor).toBe(3.5);
    expect(() => loadConfig({ RELEVANCE_FLOOR: 'low' })).toThrow(/RELEVANCE_FLOOR: must be a number/);
  });
});
