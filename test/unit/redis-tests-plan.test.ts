import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRedisTests } from '../servers/redis-server.ts';

/** Folders standing in for PATH entries: one with an executable redis-server, and ones without. */
let dir: string;
let withRedis: string;
let withoutRedis: string;
let notExecutable: string;
let onlyAFolder: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'poquan-redis-plan-'));
  [withRedis, withoutRedis, notExecutable, onlyAFolder] = ['with', 'without', 'plain', 'folder'].map((name) =>
    join(dir, name),
  ) as [string, string, string, string];
  for (const folder of [withRedis, withoutRedis, notExecutable, onlyAFolder]) await mkdir(folder);
  await writeFile(join(withRedis, 'redis-server'), '#!/bin/sh\n');
  await chmod(join(withRedis, 'redis-server'), 0o755);
  await writeFile(join(notExecutable, 'redis-server'), '#!/bin/sh\n');
  await chmod(join(notExecutable, 'redis-server'), 0o644);
  await mkdir(join(onlyAFolder, 'redis-server'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const path = (...folders: string[]) => folders.join(delimiter);

describe('whether the tests that need Redis run', () => {
  it('run against the first executable redis-server on PATH, under CI or not', () => {
    for (const CI of [undefined, 'true']) {
      expect(planRedisTests({ PATH: path(withoutRedis, withRedis), CI })).toEqual({
        kind: 'run',
        binary: join(withRedis, 'redis-server'),
      });
    }
  });

  it('are skipped, saying why and how to install it, when PATH has no executable redis-server', () => {
    for (const PATH of [path(withoutRedis, notExecutable, onlyAFolder), '', undefined]) {
      const plan = planRedisTests({ PATH });
      expect(plan).toEqual({
        kind: 'skip',
        reason: expect.stringContaining('redis-server is not on the PATH'),
      });
      expect(plan).toMatchObject({ reason: expect.stringMatching(/skipped.*apt-get install redis-server/) });
    }
  });

  it('fail the run under CI when redis-server is missing, and skip when CI is set to false', () => {
    for (const CI of ['true', '1']) {
      expect(planRedisTests({ PATH: path(withoutRedis), CI })).toEqual({
        kind: 'fail',
        reason: expect.stringMatching(new RegExp(`^CI=${CI} but redis-server is not on the PATH`)),
      });
    }
    for (const CI of ['false', '0', '']) {
      expect(planRedisTests({ PATH: path(withoutRedis), CI })).toMatchObject({ kind: 'skip' });
    }
  });
});
