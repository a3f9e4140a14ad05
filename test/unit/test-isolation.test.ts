import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
    expect(() => connect({ host: 'api.telegram.example', port: 443 })).toThrow(/api\.telegram\.example/);
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

/** The domains of real services a test could be tempted to name: as a host, in a URL or as sample data. */
const realServiceDomain =
  /(?<![\w.-])(?:[\w-]+\.)*(?:deepseek\.com|telegram\.org|discord(?:app)?\.(?:com|net)|discord\.gg|openai\.com|anthropic\.com|aliyuncs\.com|moonshot\.(?:ai|cn)|bigmodel\.cn|z\.ai|minimaxi?\.(?:io|com)|stepfun\.com|github\.com)(?![\w-]|\.[a-z])/gi;

/** The authority (`user@host:port`) of every http(s) and ws(s) URL. */
const urlAuthority = /\b(?:https?|wss?):\/\/([^\s/?#'"`<>()]+)/gi;

/**
 * A host a test may write: loopback, a name reserved for examples and tests (RFC 2606, RFC 6761: example.com,
 * `*.example`, `*.invalid`, `*.test`, `*.localhost`), a documentation address (RFC 5737), or a template
 * placeholder, whose value is written (and scanned) elsewhere.
 */
function mayBeNamed(host: string): boolean {
  return (
    host.startsWith('${') ||
    host === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(host) ||
    /^(?:192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$/.test(host) ||
    /(?:^|\.)(?:example\.(?:com|org|net)|example|invalid|test|localhost)$/.test(host)
  );
}

/** The hosts in `line` a test must not name: real services' domains, and URL hosts that are neither loopback nor reserved. */
function remoteHostsIn(line: string): string[] {
  const hosts = new Set<string>();
  for (const [domain] of line.matchAll(realServiceDomain)) hosts.add(domain.toLowerCase());
  for (const [, authority] of line.matchAll(urlAuthority)) {
    // Without the user and password, the port, and the backslashes of a URL written into a regular expression.
    const address = (authority as string).replace(/^.*@/, '').replaceAll('\\', '').toLowerCase();
    const host = address.startsWith('[') ? address.replace(/\].*$/, ']') : address.replace(/:.*$/, '');
    if (!mayBeNamed(host)) hosts.add(host);
  }
  return [...hosts];
}

/** Every file under `dir`, relative to the repository. */
function filesUnder(dir: string): string[] {
  return readdirSync(`${root}${dir}`, { recursive: true, encoding: 'utf8' })
    .map((path) => `${dir}/${path}`)
    .filter((path) => statSync(`${root}${path}`).isFile());
}

/** Builds a host name out of its labels, so this spec can show real hosts being flagged without naming them. */
const dot = (...labels: string[]) => labels.join('.');

describe('the test sources', () => {
  it('name no real remote host: each offence as file:line and the host', () => {
    // bench/ too: the quick bench runs under vitest, and its fakes and inputs are test code.
    const offences = ['test', 'bench'].flatMap(filesUnder).flatMap((file) =>
      readFileSync(`${root}${file}`, 'utf8')
        .split('\n')
        .flatMap((line, index) => remoteHostsIn(line).map((host) => `${file}:${index + 1}: ${host}`)),
    );
    expect(offences).toEqual([]);
  });

  it('flags real services and unknown URL hosts, and lets loopback and reserved names through', () => {
    const deepseek = dot('api', 'deepseek', 'com');
    const telegram = dot('api', 'telegram', 'org');
    const gateway = dot('gateway', 'discord', 'gg');
    const dashscope = dot('dashscope-intl', 'aliyuncs', 'com');
    const openai = dot('api', 'openai', 'com');
    const privateAddress = dot('10', '255', '255', '1');
    const unknown = dot('a', 'b');
    const flagged: Array<[line: string, hosts: string[]]> = [
      [`const base = 'https://${deepseek}/v1';`, [deepseek]],
      [`connect({ host: '${telegram}', port: 443 });`, [telegram]],
      [`gateway: 'wss://${gateway}/?v=10',`, [gateway]],
      [`LLM_BASE_URL: 'https://${dashscope}/compatible-mode/v1',`, [dashscope]],
      [`'http://sk-user:secret@${openai}:443/v1'`, [openai]],
      [
        `expect(url).toBe('${dot('discord', 'com')}/api') // and ${deepseek}`,
        [dot('discord', 'com'), deepseek],
      ],
      [`fetch('http://${privateAddress}/v1/models')`, [privateAddress]],
      [`[y](https://${unknown}/?q=1)`, [unknown]],
    ];
    for (const [line, hosts] of flagged) expect(remoteHostsIn(line), line).toEqual(hosts);

    const clean = [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a line of source code, placeholder and all.
      'const url = `http://127.0.0.1:${port}/v1`;',
      "LLM_BASE_URL: 'http://user:pw@127.0.0.1:9/v1?api-key=x',",
      "'http://localhost:11434/v1' and http://[::1]:80/",
      "baseURL: 'https://api.deepseek.example.com', apiRoot: 'https://bot.example.org'",
      "'https://techledger.example/a', 'https://x.test/?a=1', 'http://llm.invalid/v1'",
      "LLM_BASE_URL: 'http://192.0.2.1/v1'",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a line of source code, placeholder and all.
      'await fetch(`http://${remote}/v1/models`);',
      "new RegExp('^http://127\\.0\\.0\\.1:9/')",
      '01.AI and file.info, discord.com.example, notdeepseek.community',
    ];
    for (const line of clean) expect(remoteHostsIn(line), line).toEqual([]);
  });
});
