/**
 * The Poquan deployment the soak runs and kills: two Telegram webhook instances behind a loopback round-robin
 * load balancer and one Discord process, all real `node bin/poquan.js start` processes of the compiled runtime
 * with explicit settings, sharing one redis-server. Each instance keeps its port across restarts, so the
 * balancer's backends stay as they are while one is down (it answers 502 meanwhile, which Telegram retries).
 */
import { performance } from 'node:perf_hooks';
import { startLoadBalancer } from '../../test/servers/load-balancer.ts';
import { cleanCwd } from '../../test/servers/poquan-env.ts';
import { type PoquanProcess, runPoquan, startPoquanProcess } from '../../test/servers/poquan-process.ts';
import { inspectorUrl, measureMemory } from './heap-probe.ts';
import type { HeapSample } from './plan.ts';

/** What the fleet needs from the world and the run's plan. */
export interface FleetSettings {
  knowledgeDir: string;
  redisUrl: string;
  llmUrl: string;
  telegram: { url: string; token: string };
  discord: { token: string; applicationId: string; apiBase: string };
  userDailyTokens: number;
  /** Two free loopback ports, one per webhook instance. */
  webhookPorts: [number, number];
}

/** One process of the deployment, across its restarts. */
export interface FleetMember {
  name: 'webhook-1' | 'webhook-2' | 'discord';
  /** Every start of it, in order; the last is the one running. */
  lives: PoquanProcess[];
}

/** One SIGKILL the soak dealt, and how long the restarted process took to be ready. */
export interface KillRecord {
  target: FleetMember['name'];
  /** Milliseconds since the run started. */
  at: number;
  /** Questions asked by then, and of those not yet settled (in flight somewhere, not only in this process). */
  asked: number;
  unsettled: number;
  /** Absent when the process did not start again. */
  restartMs?: number;
  /** Why each failed start failed (its last output). */
  failedStarts: string[];
}

/** The log line each kind of process writes once it takes work. */
const readyLine = { webhook: 'http server listening', discord: 'discord adapter ready' };
/** Two cores shared with the fakes and the other processes: a start can take a while. */
const startTimeoutMs = 120_000;
export const webhookPath = '/telegram/webhook';
const webhookSecret = 'soak-webhook-secret-5b2e';

/** The running deployment. */
export interface Fleet {
  members: FleetMember[];
  lbUrl: string;
  /**
   * SIGKILLs the member's running process and starts it again at once, as a restart policy would: up to three
   * starts. Resolves with how long it took to be ready and the starts that failed; rejects if none succeeded.
   */
  killAndRestart(name: FleetMember['name']): Promise<{ restartMs: number; failedStarts: string[] }>;
  /** Heap and RSS of every running process after a full GC, labelled with its life (`webhook-1 #2`). */
  sampleHeap(questionsDone: number): Promise<HeapSample[]>;
  /** Processes that ended without the soak killing or stopping them. */
  unexpectedExits(): Array<{ process: string; code: number | null; lastLines: string[] }>;
  /** The JSON log lines of every process life. */
  logs(): Array<Record<string, unknown> & { msg?: string; level?: number }>;
  /** SIGTERM to every process; resolves with their exit codes once all have exited. */
  stop(): Promise<Record<string, number | null>>;
  close(): Promise<void>;
}

/** Starts the balancer, registers the webhook (`poquan webhook set`) and starts the three processes. */
export async function startFleet(settings: FleetSettings): Promise<Fleet> {
  const lb = await startLoadBalancer();
  const common = {
    KNOWLEDGE_DIR: settings.knowledgeDir,
    STORE_URL: settings.redisUrl,
    STORE_NAMESPACE: 'soak',
    LLM_BASE_URL: settings.llmUrl,
    LLM_API_KEY: 'sk-soak',
    LLM_TIMEOUT_MS: '3000',
    // Every question reaches the model: 1,000 questions drawn from 45 would otherwise mostly hit the cache.
    ANSWER_CACHE_TTL_HOURS: '0',
    RATE_LIMIT_PER_MINUTE: '0',
    BUDGET_USER_DAILY_TOKENS: String(settings.userDailyTokens),
    LOG_LEVEL: 'info',
  };
  const telegram = {
    TELEGRAM_BOT_TOKEN: settings.telegram.token,
    TELEGRAM_API_ROOT: settings.telegram.url,
    TELEGRAM_WEBHOOK_URL: `${lb.url}${webhookPath}`,
    TELEGRAM_WEBHOOK_SECRET: webhookSecret,
    // A killed instance's updates are taken over by the live one after 2 s, not the default 15 s.
    TELEGRAM_WEBHOOK_LEASE_MS: '2000',
    HTTP_HOST: '127.0.0.1',
  };
  // The inspector lets the soak collect garbage and read memory inside each process (see heap-probe.ts).
  const inspect = { NODE_OPTIONS: '--inspect=127.0.0.1:0' };
  const envs: Record<FleetMember['name'], Record<string, string>> = {
    'webhook-1': { ...common, ...telegram, ...inspect, PORT: String(settings.webhookPorts[0]) },
    'webhook-2': { ...common, ...telegram, ...inspect, PORT: String(settings.webhookPorts[1]) },
    discord: {
      ...common,
      ...inspect,
      DISCORD_TOKEN: settings.discord.token,
      DISCORD_APPLICATION_ID: settings.discord.applicationId,
      DISCORD_API_BASE: settings.discord.apiBase,
    },
  };
  lb.backends.push(...settings.webhookPorts.map((port) => `http://127.0.0.1:${port}`));

  const registration = await runPoquan(
    ['webhook', 'set'],
    { ...common, ...telegram, PORT: String(settings.webhookPorts[0]) },
    cleanCwd(),
  );
  if (registration.code !== 0) {
    await lb.close();
    throw new Error(`poquan webhook set failed (${registration.code}): ${registration.stderr.trim()}`);
  }

  const expected = new Set<PoquanProcess>();
  const unexpected: Array<{ process: string; code: number | null; lastLines: string[] }> = [];
  const members: FleetMember[] = (['webhook-1', 'webhook-2', 'discord'] as const).map((name) => ({
    name,
    lives: [],
  }));
  const labelOf = (member: FleetMember, life: PoquanProcess) =>
    `${member.name} #${member.lives.indexOf(life) + 1}`;

  const spawnLife = async (member: FleetMember) => {
    const life = startPoquanProcess(envs[member.name], cleanCwd());
    member.lives.push(life);
    void life.exited.then((code) => {
      if (!expected.has(life)) {
        unexpected.push({ process: labelOf(member, life), code, lastLines: life.lines.slice(-5) });
      }
    });
    const line = member.name === 'discord' ? readyLine.discord : readyLine.webhook;
    try {
      await life.waitForLog((entry) => entry.msg === line, startTimeoutMs);
    } catch {
      // For a process that ended, waitForLog rejects only once all its output has been read.
      const output = life.lines.filter((text) => !/Debugger|inspector/.test(text)).slice(-8);
      throw new Error(
        `${labelOf(member, life)} did not become ready (exit ${life.child.exitCode ?? life.child.signalCode ?? 'none yet'}):\n${output.join('\n')}`,
      );
    }
  };
  const memberNamed = (name: FleetMember['name']) => members.find((m) => m.name === name) as FleetMember;
  const running = (member: FleetMember) => member.lives.at(-1) as PoquanProcess;

  const closeAll = async () => {
    for (const member of members) {
      for (const life of member.lives) {
        expected.add(life);
        await life.stop('SIGKILL');
      }
    }
    await lb.close();
  };
  try {
    await Promise.all(members.map(spawnLife));
  } catch (error) {
    await closeAll();
    throw error;
  }

  return {
    members,
    lbUrl: lb.url,
    async killAndRestart(name) {
      const member = memberNamed(name);
      const life = running(member);
      expected.add(life);
      const killed = performance.now();
      await life.stop('SIGKILL');
      const failedStarts: string[] = [];
      for (;;) {
        try {
          await spawnLife(member);
          return { restartMs: performance.now() - killed, failedStarts };
        } catch (error) {
          failedStarts.push(error instanceof Error ? error.message : String(error));
          // One that is still starting after the timeout would hold the port: end it before the next start.
          const stuck = running(member);
          expected.add(stuck);
          await stuck.stop('SIGKILL');
          if (failedStarts.length === 3) throw error;
        }
      }
    },
    async sampleHeap(questionsDone) {
      const samples = await Promise.all(
        members.map(async (member): Promise<HeapSample[]> => {
          const life = running(member);
          const url = inspectorUrl(life.lines);
          if (!url || expected.has(life)) return [];
          // A process killed while it is measured has no sample to give; its next life has its own.
          const memory = await measureMemory(url).catch(() => undefined);
          return memory ? [{ process: labelOf(member, life), questionsDone, ...memory }] : [];
        }),
      );
      return samples.flat();
    },
    unexpectedExits: () => unexpected,
    logs: () => members.flatMap((member) => member.lives.flatMap((life) => life.logs())),
    async stop() {
      const codes = await Promise.all(
        members.map(async (member) => {
          const life = running(member);
          expected.add(life);
          return [member.name, await life.stop('SIGTERM')] as const;
        }),
      );
      return Object.fromEntries(codes);
    },
    close: closeAll,
  };
}
