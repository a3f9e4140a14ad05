import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { StoreOpenError } from '../../src/store/store-open-error.ts';

const dir = mkdtempSync(join(tmpdir(), 'poquan-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the SQLite store', () => {
  it('keeps what a file written by @keyv/sqlite holds, expiries included', async () => {
    const path = join(dir, 'keyv-sqlite.sqlite');
    const legacy = new Database(path);
    // The table and value format @keyv/sqlite 4 wrote (Keyv's `{ value, expires }` as JSON).
    legacy.exec('CREATE TABLE keyv(key VARCHAR(255) PRIMARY KEY, value TEXT )');
    const insert = legacy.prepare('INSERT INTO keyv (key, value) VALUES (?, ?)');
    const future = Date.now() + 3_600_000;
    insert.run(['poquan:memory:chat:1', JSON.stringify({ value: [{ question: 'kept' }], expires: future })]);
    insert.run(['poquan:feedback:salt', JSON.stringify({ value: 'salt' })]);
    insert.run(['poquan:telegram:update:7', JSON.stringify({ value: 1, expires: future })]);
    insert.run(['poquan:telegram:update:8', JSON.stringify({ value: 1, expires: Date.now() - 1000 })]);
    legacy.close();

    const store = await openStore(`sqlite://${path}`, 'poquan');
    expect(await store.get('memory:chat:1')).toEqual([{ question: 'kept' }]);
    expect(await store.get('feedback:salt')).toBe('salt');
    // The live claim still holds; the expired one can be taken again.
    expect(await store.claimOnce('telegram:update:7', 60_000)).toBe(false);
    expect(await store.claimOnce('telegram:update:8', 60_000)).toBe(true);
    await store.close();
  });

  it('deletes expired rows when it opens the file', async () => {
    const path = join(dir, 'sweep.sqlite');
    const first = await openStore(`sqlite://${path}`, 'poquan');
    await first.set('short', 'gone', 1);
    await first.set('long', 'kept', 60_000);
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await (await openStore(`sqlite://${path}`, 'poquan')).close();
    const db = new Database(path);
    expect(db.prepare('SELECT key FROM keyv ORDER BY key').raw().all()).toEqual([['poquan:long']]);
    db.close();
  });

  it('refuses a path that cannot be opened as a database, naming STORE_URL', async () => {
    await expect(openStore(`sqlite://${dir}`, 'poquan')).rejects.toThrow(StoreOpenError);
    await expect(openStore(`sqlite://${dir}`, 'poquan')).rejects.toThrow(/^STORE_URL: /);
  });
});
