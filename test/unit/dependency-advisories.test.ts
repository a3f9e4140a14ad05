/**
 * Reviewed advisory floors for the production dependency tree.
 *
 * `npm audit` cannot reach an advisory database from the workplace Poquan was built in (the registry answers the
 * bulk-advisory endpoint with 405 Method Not Allowed), so the production tree (`npm ls --omit=dev --all`) was
 * reviewed by hand on 2026-11-29. This file pins the floors that review found, read straight from
 * `package-lock.json`, so that a lockfile change cannot quietly bring an affected version back.
 *
 * It knows only the advisories listed below: it is no substitute for `npm run audit` wherever the registry
 * supports audits.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

type Severity = 'high' | 'critical';

/** Affected from `introduced` (default: every earlier version) up to, not including, `fixed`. */
interface AffectedRange {
  introduced?: string;
  fixed: string;
}

interface Advisory {
  pkg: string;
  ids: readonly string[];
  severity: Severity;
  /** One range per release line; a release line not listed here is treated as unaffected. */
  affected: readonly AffectedRange[];
  summary: string;
}

/** Releases that are bad in themselves (malware), whatever the version around them. */
interface BadRelease {
  pkg: string;
  version: string;
  ids: readonly string[];
  summary: string;
}

const ADVISORIES: readonly Advisory[] = [
  {
    pkg: 'undici',
    ids: ['CVE-2026-1526', 'CVE-2026-1528', 'CVE-2026-2229'],
    severity: 'high',
    affected: [{ fixed: '6.24.0' }, { introduced: '7.0.0', fixed: '7.24.0' }],
    summary:
      'WebSocket frames and permessage-deflate can crash the client or exhaust memory (@discordjs/rest)',
  },
  {
    pkg: 'undici',
    ids: ['CVE-2026-12151', 'CVE-2026-6733', 'GHSA-35p6-xmwp-9g52'],
    severity: 'high',
    affected: [
      { fixed: '6.27.0' },
      { introduced: '7.0.0', fixed: '7.28.0' },
      { introduced: '8.0.0', fixed: '8.5.0' },
    ],
    summary: 'the 2026 6.x advisory wave, among them unbounded memory growth from WebSocket frames',
  },
  {
    pkg: 'lodash',
    ids: ['CVE-2025-13465', 'GHSA-xxjr-mmjv-4gpg'],
    severity: 'high',
    affected: [{ introduced: '4.0.0', fixed: '4.17.23' }],
    summary: 'prototype pollution in _.unset and _.omit',
  },
  {
    pkg: 'lodash',
    ids: ['CVE-2026-4800', 'GHSA-r5fr-rjxr-66jc', 'CVE-2026-2950', 'GHSA-f23m-r3pf-42rh'],
    severity: 'high',
    affected: [{ fixed: '4.18.0' }],
    summary: 'code injection through _.template imports keys; array-path bypass of the _.unset/_.omit fix',
  },
  {
    pkg: 'ws',
    ids: ['CVE-2024-37890', 'GHSA-3h5v-q93c-6h6q'],
    severity: 'high',
    affected: [
      { introduced: '2.1.0', fixed: '5.2.4' },
      { introduced: '6.0.0', fixed: '6.2.3' },
      { introduced: '7.0.0', fixed: '7.5.10' },
      { introduced: '8.0.0', fixed: '8.17.1' },
    ],
    summary: 'denial of service through a request with many HTTP headers',
  },
  {
    pkg: 'node-fetch',
    ids: ['CVE-2022-0235', 'GHSA-r683-j2x4-v87g'],
    severity: 'high',
    affected: [{ fixed: '2.6.7' }, { introduced: '3.0.0', fixed: '3.1.1' }],
    summary: 'forwards cookie and authorization headers to a third-party redirect target',
  },
  {
    pkg: 'marked',
    ids: ['CVE-2022-21680', 'CVE-2022-21681'],
    severity: 'high',
    affected: [{ fixed: '4.0.10' }],
    summary: 'ReDoS in block definitions and inline text',
  },
  {
    pkg: 'yaml',
    ids: ['CVE-2023-2251', 'GHSA-f9xv-q969-pqx4'],
    severity: 'high',
    affected: [{ introduced: '2.0.0', fixed: '2.2.2' }],
    summary: 'uncaught exception on crafted input',
  },
];

const BAD_RELEASES: readonly BadRelease[] = [
  {
    pkg: 'debug',
    version: '4.4.2',
    ids: ['GHSA-8mgj-vmr8-frr6'],
    summary: 'malicious release from the September 2025 npm supply-chain attack',
  },
];

/** The part of a lockfileVersion 3 `package-lock.json` this check reads. */
interface LockEntry {
  name?: string;
  version?: string;
  dev?: boolean;
  link?: boolean;
  hasInstallScript?: boolean;
}

interface Lockfile {
  lockfileVersion?: number;
  packages: Record<string, LockEntry>;
}

interface Installed {
  path: string;
  name: string;
  version: string;
}

/** `x.y.z` as numbers; a prerelease or build suffix is ignored. */
function parseVersion(version: string): [number, number, number] {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!match) throw new Error(`not a version: ${version}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function compareVersions(a: string, b: string): number {
  const [x, y] = [parseVersion(a), parseVersion(b)];
  for (let i = 0; i < 3; i++) {
    const diff = (x[i] ?? 0) - (y[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

function isAffected(version: string, ranges: readonly AffectedRange[]): boolean {
  return ranges.some(
    ({ introduced, fixed }) =>
      (introduced === undefined || compareVersions(version, introduced) >= 0) &&
      compareVersions(version, fixed) < 0,
  );
}

/** Every installed copy of every package, as `npm audit --omit=dev` would see the tree. */
function productionPackages(lock: Lockfile): Installed[] {
  const installed: Installed[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.includes('node_modules/') || entry.dev || entry.link || !entry.version) continue;
    // An aliased package (`"foo": "npm:bar@1"`) records its real name in `name`.
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    installed.push({ path, name, version: entry.version });
  }
  return installed;
}

/** One line per installed copy that an advisory or a bad release covers; empty when the tree is clean. */
function findAdvisoryHits(
  lock: Lockfile,
  advisories: readonly Advisory[] = ADVISORIES,
  badReleases: readonly BadRelease[] = BAD_RELEASES,
): string[] {
  const hits: string[] = [];
  for (const { path, name, version } of productionPackages(lock)) {
    for (const advisory of advisories) {
      if (advisory.pkg === name && isAffected(version, advisory.affected)) {
        hits.push(
          `${path}@${version}: ${advisory.ids.join(', ')} (${advisory.severity}) ${advisory.summary}`,
        );
      }
    }
    for (const bad of badReleases) {
      if (bad.pkg === name && compareVersions(version, bad.version) === 0) {
        hits.push(`${path}@${version}: ${bad.ids.join(', ')} (critical) ${bad.summary}`);
      }
    }
  }
  return hits;
}

const lock = JSON.parse(
  readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8'),
) as Lockfile;

describe('Production dependencies', () => {
  it('are read from a lockfileVersion 3 package-lock.json', () => {
    expect(lock.lockfileVersion).toBe(3);
    expect(productionPackages(lock).length).toBeGreaterThan(0);
  });

  it('carry no version with a known high or critical advisory', () => {
    expect(findAdvisoryHits(lock)).toEqual([]);
  });

  it('do not include the malicious debug@4.4.2', () => {
    const debugs = productionPackages(lock).filter(({ name }) => name === 'debug');
    expect(debugs.length).toBeGreaterThan(0);
    expect(debugs.map(({ version }) => version)).not.toContain('4.4.2');
  });

  it('still include every package the reviewed advisories name, so the table does not silently rot', () => {
    const names = new Set(productionPackages(lock).map(({ name }) => name));
    const watched = [...ADVISORIES, ...BAD_RELEASES].map(({ pkg }) => pkg);
    expect(watched.filter((pkg) => !names.has(pkg))).toEqual([]);
  });

  it('build nothing at install: no compiled SQLite binding, no native build tooling', () => {
    const installed = productionPackages(lock).map(({ name }) => name);
    for (const builder of ['sqlite3', 'node-gyp', 'prebuild-install', 'tar']) {
      expect(installed).not.toContain(builder);
    }
    // esbuild's install script only checks that its platform package (a prebuilt binary) is present.
    const withInstallScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript && !entry.dev)
      .map(([path]) => path);
    expect(withInstallScripts.filter((path) => !path.endsWith('node_modules/esbuild'))).toEqual([]);
  });
});

describe('The advisory table', () => {
  it('gives each advisory an id, a summary and ranges whose fix comes after their start', () => {
    for (const { ids, summary, affected } of ADVISORIES) {
      expect(ids.length).toBeGreaterThan(0);
      expect(summary).not.toBe('');
      expect(affected.length).toBeGreaterThan(0);
      for (const { introduced, fixed } of affected) {
        if (introduced !== undefined) expect(compareVersions(introduced, fixed)).toBeLessThan(0);
      }
    }
  });
});

describe('The advisory check', () => {
  const fakeLock = (packages: Record<string, LockEntry>): Lockfile => ({
    lockfileVersion: 3,
    packages: { '': { name: 'poquan', version: '0.0.0' }, ...packages },
  });

  it('reports lodash 4.17.21 wherever it is nested, under every lodash advisory', () => {
    const hits = findAdvisoryHits(
      fakeLock({
        'node_modules/lodash': { version: '4.18.1' },
        'node_modules/some-tool/node_modules/lodash': { version: '4.17.21' },
      }),
    );
    expect(hits).toHaveLength(ADVISORIES.filter(({ pkg }) => pkg === 'lodash').length);
    expect(hits.every((hit) => hit.startsWith('node_modules/some-tool/node_modules/lodash@4.17.21: '))).toBe(
      true,
    );
    expect(hits[0]).toContain('CVE-2025-13465');
  });

  it('reports the malicious debug@4.4.2 but not its neighbours', () => {
    const hits = findAdvisoryHits(
      fakeLock({
        'node_modules/debug': { version: '4.4.3' },
        'node_modules/a/node_modules/debug': { version: '4.4.1' },
        'node_modules/b/node_modules/debug': { version: '4.4.2' },
      }),
    );
    expect(hits).toEqual([
      'node_modules/b/node_modules/debug@4.4.2: GHSA-8mgj-vmr8-frr6 (critical) malicious release from the ' +
        'September 2025 npm supply-chain attack',
    ]);
  });

  it('checks each release line against its own fix', () => {
    const undici = ADVISORIES.filter(({ pkg }) => pkg === 'undici');
    const hitsFor = (version: string) =>
      findAdvisoryHits(fakeLock({ 'node_modules/undici': { version } }), undici, []).length;
    expect(hitsFor('6.23.0')).toBe(2);
    expect(hitsFor('6.25.0')).toBe(1);
    expect(hitsFor('6.27.0')).toBe(0);
    expect(hitsFor('7.25.0')).toBe(1);
    expect(hitsFor('7.28.0')).toBe(0);
    expect(hitsFor('8.4.0')).toBe(1);
    expect(hitsFor('8.5.0')).toBe(0);
  });

  it('follows aliases and scoped names, and ignores dev-only packages and workspace links', () => {
    const hits = findAdvisoryHits(
      fakeLock({
        'node_modules/old-ws': { name: 'ws', version: '8.17.0' },
        'node_modules/@scope/x/node_modules/ws': { version: '7.5.9' },
        'node_modules/vitest/node_modules/ws': { version: '8.17.0', dev: true },
        'node_modules/local': { link: true },
      }),
    );
    expect(hits.map((hit) => hit.slice(0, hit.indexOf(':')))).toEqual([
      'node_modules/old-ws@8.17.0',
      'node_modules/@scope/x/node_modules/ws@7.5.9',
    ]);
  });
});

describe('compareVersions', () => {
  it('orders versions numerically, part by part, and ignores prerelease tags', () => {
    expect(compareVersions('7.5.10', '7.5.3')).toBe(1);
    expect(compareVersions('6.2.1', '7.5.3')).toBe(-1);
    expect(compareVersions('4.18.1', '4.18.1')).toBe(0);
    expect(compareVersions('2.0.0-5', '2.0.0')).toBe(0);
    expect(() => compareVersions('latest', '1.0.0')).toThrow(/not a version/);
  });
});
