import { afterEach, describe, expect, it } from 'vitest';
import { formatDoctorReport, runDoctor } from '../../src/doctor.ts';
import { type FakeLlm, startFakeLlm } from '../fakes/fake-llm.ts';

const fakes: FakeLlm[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

const base = { KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini', STORE_URL: 'memory://' };

describe('poquan doctor', () => {
  it('reports every check ok for a working offline setup', async () => {
    const checks = await runDoctor(base);
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['configuration', true],
      ['knowledge', true],
      ['store', true],
      ['model', true],
      ['context', true],
    ]);
    expect(formatDoctorReport(checks)).toMatch(/^ok {4} knowledge {5}1 file\(s\), 2 passages/m);
    expect(formatDoctorReport(checks)).toMatch(
      /^ok {4} context {7}full context: 2 passages, ~[\d.]+k? tokens ≤ budget 16k$/m,
    );
  });

  it('reaches the model endpoint when one is configured', async () => {
    const llm = await startFakeLlm({ apiKey: 'sk-good' });
    fakes.push(llm);
    const [, , , model] = await runDoctor({ ...base, LLM_BASE_URL: llm.url, LLM_API_KEY: 'sk-good' });
    expect(model).toMatchObject({ name: 'model', ok: true });
    expect(llm.requests[0]?.body).toMatchObject({ max_tokens: 1 });
  });

  it('names the fix for a rejected key without printing the key', async () => {
    const llm = await startFakeLlm({ apiKey: 'sk-good' });
    fakes.push(llm);
    const checks = await runDoctor({ ...base, LLM_BASE_URL: llm.url, LLM_API_KEY: 'sk-bad-secret' });
    const report = formatDoctorReport(checks);
    expect(checks[3]).toMatchObject({ ok: false, fix: expect.stringContaining('LLM_API_KEY') });
    expect(report).not.toContain('sk-bad-secret');
  });

  it('reports an unreachable store and an unreadable knowledge folder with their fixes', async () => {
    const checks = await runDoctor({ KNOWLEDGE_DIR: '/nonexistent', STORE_URL: 'redis://127.0.0.1:1' });
    expect(checks[1]).toMatchObject({
      name: 'knowledge',
      ok: false,
      fix: expect.stringContaining('KNOWLEDGE_DIR'),
    });
    expect(checks[2]).toMatchObject({ name: 'store', ok: false, fix: expect.stringContaining('Redis') });
  });

  it('stops at a bad configuration, naming the variable', async () => {
    const checks = await runDoctor({ LLM_THINKING: 'sometimes' });
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({
      name: 'configuration',
      ok: false,
      detail: expect.stringContaining('LLM_THINKING'),
    });
  });
});
