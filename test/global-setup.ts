import { planRedisTests } from './servers/redis-server.ts';

/**
 * Runs once around the whole test run. Without redis-server the Redis tests are skipped and the reason is
 * printed before the first file and again after the summary, where a reader of the run looks. Under CI the run
 * ends here with that one line and exit code 1 instead, because CI must run every test (a thrown error would
 * be buried under vitest's "No test files found").
 */
export default function globalSetup(): (() => void) | undefined {
  const redis = planRedisTests(process.env);
  if (redis.kind === 'fail') {
    console.error(redis.reason);
    process.exit(1);
  }
  if (redis.kind === 'run') return undefined;
  const note = () => console.warn(`\nSkipped: ${redis.reason}\n`);
  note();
  return note;
}
