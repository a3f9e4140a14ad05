import { existsSync, readdirSync } from 'node:fs';
import { get } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvSchema } from '../../src/core/config.ts';
import { isDeveloperSetting, removeDeveloperSettings } from '../developer-settings.ts';
import { isLoopbackHost, takeRefusedConnections } from '../loopback-guard.ts';
import { cleanCwd, poquanEnv } from '../servers/poquan-env.ts';

const root = new URL('../..', import.meta.url).pathname;
const remote = '10.255.255.1';

describe('the environment tests run in', () => {
  it('holds no Poquan setting, whatever the developer exported (test/setup.ts removed them)', () => {
    expect(Object.keys(process.env).filter(isDeveloperSetting)).toEqual([]);
  });

  it('counts every schema key, model, platform, store and proxy setting as the developer’s, and nothing else', () => {
    const env: NodeJS.ProcessEnv = {
      ...Object.fromEntries(Object.keys(EnvSchema.shape).map((key) => [key, 'x'])),
      LLM_SOMETHING_NEW: 'x',
      OPENAI_API_KEY: 'sk-real',
      OPENAI_BASE_URL: 'https://llm.example.com/v1',
      DEEPSEEK_API_KEY: 'sk-real',
      TELEGRAM_TOKEN: 'x',
      DISCORD_BOT_TOKEN: 'x',
      REDIS_URL: 'redis://cache.example.org',
      SHARDS: '0',
      HTTPS_PROXY: 'http://proxy.example.org:3128',
      http_proxy: 'http://proxy.example.org:3128',
      PATH: '/usr/bin',
      HOME: '/home/dev',
      CI: 'true',
    };
    removeDeveloperSettings(env);
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/dev', CI: 'true' });
  });

  it('refuses to load a .env file', () => {
    expect(() => process.loadEnvFile('.env')).toThrow(/tried to load \.env/);
  });
});

describe('a Poquan process a test starts', () => {
  it('gets PATH, HOME and exactly its settings, with the knowledge folder made absolute', () => {
    process.env.LLM_API_KEY = 'sk-from-the-developer';
    try {
      expect(poquanEnv({ STORE_URL: 'memory://', KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini' })).toEqual({
        PATH: process.env.PATH,
        HOME: expect.any(String),
        STORE_URL: 'memory://',
        KNOWLEDGE_DIR: `${root}test/fixtures/knowledge-mini`,
      });
      expect(poquanEnv().KNOWLEDGE_DIR).toBe(`${root}knowledge`);
    } finally {
      delete process.env.LLM_API_KEY;
    }
  });

  it('runs in an empty folder outside the repository, so it finds no .env', () => {
    const cwd = cleanCwd();
    expect(cwd.startsWith(root)).toBe(false);
    expect(readdirSync(cwd)).toEqual([]);
    expect(existsSync(`${cwd}/.env`)).toBe(false);
  });
});

describe('the loopback guard', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('knows loopback hosts from others', () => {
    for (const host of ['localhost', '127.0.0.1', '127.8.9.10', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      remote,
      '0.0.0.0',
      '::',
      'api.deepseek.example.com',
      'localhost.example.org',
      '128.0.0.1',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('lets a test reach a server on 127.0.0.1', async () => {
    const socket = connect(port, '127.0.0.1');
    const [data] = (await new Promise((resolve) => socket.once('data', (chunk) => resolve([chunk])))) as [
      Buffer,
    ];
    expect(data.toString()).toBe('hello');
  });

  it('refuses net, tls and http connections to any other host, naming it, and records each', () => {
    expect(() => connect(9, remote)).toThrow(`Test tried to connect to ${remote}, which is not loopback`);
    expect(() => connect({ host: 'api.telegram.org', port: 443 })).toThrow(/api\.telegram\.org/);
    expect(() => tlsConnect({ host: 'api.deepseek.example.com', port: 443 })).toThrow(
      /api\.deepseek\.example\.com/,
    );
    expect(() => get('http://discord.example.com/api')).toThrow(/discord\.example\.com/);
    expect(takeRefusedConnections()).toHaveLength(4);
  });

  it('covers fetch and the OpenAI SDK that uses it, which report the refusal as the cause', async () => {
    const failure = await fetch(`http://${remote}/v1/models`).catch((error: Error) => error);
    expect((failure as Error).cause).toMatchObject({ message: expect.stringContaining(remote) });

    const client = new OpenAI({
      baseURL: 'https://api.deepseek.example.com',
      apiKey: 'sk-junk',
      maxRetries: 0,
    });
    await expect(
      client.chat.completions.create({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toThrow(/Connection error/);
    expect(takeRefusedConnections()).toEqual([
      expect.stringContaining(remote),
      expect.stringContaining('api.deepseek.example.com'),
    ]);
  });
});
