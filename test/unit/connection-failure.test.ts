import { describe, expect, it } from 'vitest';
import { withoutCredentials } from '../../src/logging/connection-failure.ts';

describe('withoutCredentials', () => {
  it.each([
    ['redis://:pass@word@127.0.0.1:6379/0', 'redis://127.0.0.1:6379/0'],
    ['rediss://user:pw@cache.example:6380', 'rediss://cache.example:6380'],
    ['https://u:p@api.example.com/v1?api-key=k#frag', 'https://api.example.com/v1'],
    ['sqlite://data/poquan.sqlite', 'sqlite://data/poquan.sqlite'],
    ['https://llm.example.net', 'https://llm.example.net'],
  ])('shows %s as %s', (url, shown) => {
    expect(withoutCredentials(url)).toBe(shown);
  });
});
