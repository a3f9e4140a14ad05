import { EnvSchema } from '../src/core/config.ts';

// Beyond the schema's own keys: settings of other versions or forks, and those libraries read on their own
// (the OpenAI SDK `OPENAI_*`, discord.js `DISCORD_TOKEN` and `SHARDS`, HTTP clients `*_PROXY`).
const prefixed = /^(LLM_|TELEGRAM_|DISCORD_|OPENAI_|DEEPSEEK_|STORE_|REDIS|POQUAN|SHARD)/;
const proxies = /^((https?|all|no)_proxy|NODE_USE_ENV_PROXY)$/i;

/** Whether `key` is a Poquan setting, or one that could point the code under test at another host. */
export function isDeveloperSetting(key: string): boolean {
  return key in EnvSchema.shape || prefixed.test(key) || proxies.test(key);
}

/** Deletes every developer setting from `env` (in place), keeping PATH, CI and the rest. */
export function removeDeveloperSettings(env: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(env)) if (isDeveloperSetting(key)) delete env[key];
}
