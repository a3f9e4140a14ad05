import { describe, expect, it } from 'vitest';
import { decodeVoteButton, encodeVoteButton } from '../../src/adapters/shared/vote-button.ts';

describe('vote button payloads', () => {
  it('round-trip and stay within Telegram’s 64 bytes and Discord’s 100 characters', () => {
    const answerId = 'AbCdEf0123456789';
    for (const vote of ['up', 'down'] as const) {
      const data = encodeVoteButton(answerId, vote);
      expect(data).toBe(`fb:${answerId}:${vote}`);
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(decodeVoteButton(data)).toEqual({ answerId, vote });
    }
  });

  it('ignore data that is not a vote', () => {
    for (const data of [undefined, '', 'fb:x:maybe', 'other:x:up', 'fb::up', 'fb:a:b:up']) {
      expect(decodeVoteButton(data)).toBeUndefined();
    }
  });
});
