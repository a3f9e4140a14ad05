import { type Config, loadConfig } from './core/config.ts';
import { chooseContextStrategy, describeContextStrategy } from './core/context.ts';
import { describeErrorForUser, LlmError, type LlmErrorKind } from './core/errors.ts';
import { type KnowledgeBase, loadKnowledge } from './core/knowledge.ts';
import { createOpenAiLlm } from './core/llm.ts';
import { openStore } from './core/store.ts';

/** One line of the doctor's report: what was checked, whether it works, and what to do if not. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

async function check(
  name: string,
  run: () => Promise<string>,
  fix: (error: unknown) => string,
): Promise<DoctorCheck> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    return { name, ok: false, detail: (error as Error).message ?? String(error), fix: fix(error) };
  }
}

const modelFixes: Partial<Record<LlmErrorKind, string>> = {
  auth: 'check LLM_API_KEY (and that it belongs to LLM_PROVIDER), and the account balance',
  unavailable: 'check that LLM_BASE_URL is right and reachable from this machine',
  timeout: 'check that LLM_BASE_URL is reachable, or raise LLM_TIMEOUT_MS',
  bad_request: 'check LLM_MODEL: the provider may have renamed or retired it',
  rate_limit: 'the key is rate-limited right now; try again later or raise the plan limits',
};

async function checkModel(config: Config): Promise<DoctorCheck> {
  if (config.llm.mode === 'offline') {
    return {
      name: 'model',
      ok: true,
      detail: 'offline mode (no LLM_API_KEY): answers quote passages',
      fix: 'set LLM_API_KEY for written answers',
    };
  }
  return check(
    'model',
    async () => {
      const llm = createOpenAiLlm({ ...config.llm, maxRetries: 0, maxTokens: 1, thinking: false });
      const started = Date.now();
      for await (const _ of llm.streamChat([{ role: 'user', content: 'ping' }])) void _;
      return `${config.llm.model} at ${config.llm.baseUrl} answered in ${Date.now() - started} ms`;
    },
    (error) =>
      modelFixes[error instanceof LlmError ? error.kind : 'unavailable'] ?? describeErrorForUser(error),
  );
}

/**
 * Checks that this installation can work: configuration, knowledge, store and — when a key is set — the
 * model endpoint. Each check reports ok or what failed with the fix. Secrets are never printed.
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
          await store.kv.set('doctor:write-test', Date.now(), 10_000);
          return `${store.kind} store reachable and writable`;
        } finally {
          await store.close();
        }
      },
      () =>
        config.storeUrl.startsWith('redis')
          ? 'start Redis or fix STORE_URL (redis://host:6379)'
          : 'make the STORE_URL path writable, or use memory://',
    ),
  );
  results.push(await checkModel(config));
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
