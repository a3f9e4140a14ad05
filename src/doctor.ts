import { type Config, loadConfig } from './core/config.ts';
import { chooseContextStrategy, describeContextStrategy } from './core/context.ts';
import { type KnowledgeBase, loadKnowledge } from './core/knowledge.ts';
import { storeKeys } from './core/store-keys.ts';
import { check, type DoctorCheck } from './doctor/check.ts';
import { checkModel } from './doctor/model.ts';
import { checkDiscordToken, checkTelegramToken } from './doctor/platforms.ts';
import { openStore } from './store/open-store.ts';
import { StoreOpenError } from './store/store-open-error.ts';

export type { DoctorCheck } from './doctor/check.ts';

/**
 * Checks that this installation can work: configuration, knowledge, store, the model endpoint (when one is
 * configured) and each configured bot token against its platform. Each check reports ok or what failed
 * with the fix, naming the setting. Secrets are never printed.
 */
export async function runDoctor(env: Record<string, string | undefined>): Promise<DoctorCheck[]> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    return [
      {
        name: 'configuration',
        ok: false,
        detail: (error as Error).message,
        fix: 'correct the named variables (see .env.example)',
      },
    ];
  }
  const platforms = [config.telegram.token && 'telegram', config.discord.token && 'discord'].filter(Boolean);
  const results: DoctorCheck[] = [
    {
      name: 'configuration',
      ok: true,
      detail: `provider ${config.llm.provider}, store ${config.storeUrl.split('://')[0]}, platforms: ${platforms.join(', ') || 'none (CLI only)'}`,
    },
  ];
  let knowledge: KnowledgeBase | undefined;
  results.push(
    await check(
      'knowledge',
      async () => {
        knowledge = await loadKnowledge(config.knowledgeDir);
        return `${knowledge.files.length} file(s), ${knowledge.passages.length} passages, ${knowledge.glossary.length} glossary entries, version ${knowledge.version}`;
      },
      () => `fix the named file, or point KNOWLEDGE_DIR at a folder of .md/.txt files`,
    ),
  );
  results.push(
    await check(
      'store',
      async () => {
        const store = await openStore(config.storeUrl, config.storeNamespace);
        try {
          await store.ping();
          await store.set(storeKeys.doctorWriteTest, Date.now(), 10_000);
          return `${store.kind} store reachable and writable`;
        } finally {
          await store.close();
        }
      },
      (error) =>
        config.storeUrl.startsWith('redis')
          ? error instanceof StoreOpenError
            ? 'fix the password in STORE_URL (redis://:PASSWORD@host:6379)'
            : 'start Redis or fix STORE_URL (redis://host:6379)'
          : error instanceof StoreOpenError
            ? 'move the file away or restore a backup; STORE_FALLBACK=memory starts without memory meanwhile'
            : 'make the STORE_URL path writable, or use memory://',
    ),
  );
  results.push(await checkModel(config));
  if (config.telegram.token) results.push(await checkTelegramToken(config));
  if (config.discord.token) results.push(await checkDiscordToken(config));
  if (knowledge) {
    const strategy = chooseContextStrategy(knowledge, { ...config.context, topK: config.retrieval.topK });
    results.push({ name: 'context', ok: true, detail: describeContextStrategy(strategy, 'en') });
  }
  return results;
}

/** The report as printed by `poquan doctor`: one line per check, with the fix under each failure. */
export function formatDoctorReport(checks: DoctorCheck[]): string {
  return `${checks
    .map(
      (c) =>
        `${c.ok ? 'ok    ' : 'FAILED'} ${c.name.padEnd(13)} ${c.detail}${!c.ok && c.fix ? `\n       fix: ${c.fix}` : ''}`,
    )
    .join('\n')}\n`;
}
