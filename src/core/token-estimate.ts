import { containsCjk } from './tokenize.ts';

/**
 * A conservative token count for sizing prompts without the provider's tokenizer: one token per CJK
 * character and 0.3 per other character. DeepSeek documents about 0.6 tokens per Chinese character and 0.3 per
 * English character, so real counts come out at or below this; a budget checked against it holds.
 * @see https://api-docs.deepseek.com/quick_start/token_usage
 */
export function estimateTokens(text: string): number {
  let cjk = 0;
  let other = 0;
  for (const char of text) {
    if (containsCjk(char)) cjk++;
    else other++;
  }
  return Math.ceil(cjk + other * 0.3);
}

/** 950 → "950", 4321 → "4.3k", 16000 → "16k": token counts as people read them. */
export function formatTokens(tokens: number): string {
  if (tokens < 1000) return String(tokens);
  return `${(tokens / 1000).toFixed(1).replace(/\.0$/, '')}k`;
}
