// The rules service on an in-memory RuleStore: versions, refusals, delete and restore, packs, and what the
// active rule set runs after each change. No database, no app, no HTTP.
import { Logger } from '@nestjs/common';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryRuleStore } from '../../test/support/in-memory-rule-store.js';
import { refusal } from '../../test/support/refusal.js';
import type { Actor } from '../audit/audit.service.js';
import { loadConfig } from '../config/config.js';
import { checkRuleSources, readRuleSources, type CheckedRule } from './rule-source.js';
import { ActiveRuleSet } from './active-rule-set.service.js';
import { RulesService, type BuiltinPackInstall, type UploadOptions } from './rules.service.js';
import { PythonChecks } from './python-checks.js';

const ACTOR: Actor = { keyId: 'key-1', requestId: 'req-1' };
const UPLOAD: UploadOptions = {
  format: 'yaml',
  ignoreExtraKeys: false,
  storeDisabled: false,
  origin: 'api',
  actor: ACTOR,
};

const PASSING_TESTS = `  - Name: delete
    ExpectedResult: true
    Log: { action: delete }
  - Name: read
    ExpectedResult: false
    Log: { action: read }
`;
const FAILING_TESTS = `  - Name: read matches
    ExpectedResult: true
    Log: { action: read }
`;

function rule(
  ruleId: string,
  options: { severity?: string; enabled?: boolean; tests?: string } = {},
): string {
  return `AnalysisType: rule
RuleID: ${ruleId}
LogTypes: [Custom.Audit]
Severity: ${options.severity ?? 'Low'}
Enabled: ${options.enabled ?? true}
Condition: action eq "delete"
Tests:
${options.tests ?? PASSING_TESTS}`;
}

describe('RulesService', () => {
  let store: InMemoryRuleStore;
  let active: ActiveRuleSet;
  let rules: RulesService;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    store = new InMemoryRuleStore();
    active = new ActiveRuleSet(store, loadConfig({}));
    rules = new RulesService(store, active, new PythonChecks(loadConfig({})));
  });

  const running = () => [...active.snapshot().versions.keys()];

  it('creates a rule as version 1, records it, and runs it', async () => {
    const result = await rules.upsert(rule('Test.Delete'), UPLOAD);
    expect(result.action).toBe('created');
    expect(result.rule).toMatchObject({ ruleId: 'Test.Delete', version: 1, enabled: true, origin: 'api' });
    expect(result.tests.map((test) => [test.name, test.passed])).toEqual([
      ['delete', true],
      ['read', true],
    ]);
    expect(store.versions).toMatchObject([
      { ruleId: 'Test.Delete', version: 1, origin: 'api', createdByKey: 'key-1', testsPassed: 2 },
    ]);
    expect(store.audit).toEqual([
      {
        actor: ACTOR,
        entry: {
          action: 'rule.create',
          targetType: 'rule',
          targetId: 'Test.Delete',
          details: { version: 1, origin: 'api', enabled: true },
        },
      },
    ]);
    expect(active.activeVersion('Test.Delete')?.version).toBe(1);
  });

  it('stores nothing for an identical upload, and version 2 for a changed one', async () => {
    await rules.upsert(rule('Test.Delete'), UPLOAD);
    const before = active.current;

    const same = await rules.upsert(rule('Test.Delete'), UPLOAD);
    expect(same.action).toBe('unchanged');
    expect(same.rule.version).toBe(1);
    expect(store.versions).toHaveLength(1);
    expect(active.current).toBe(before);

    const changed = await rules.upsert(rule('Test.Delete', { severity: 'High' }), UPLOAD);
    expect(changed.action).toBe('updated');
    expect(changed.rule).toMatchObject({ version: 2, severity: 'High' });
    expect((await rules.versions('Test.Delete')).map((v) => [v.version, v.current])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect((await rules.version('Test.Delete', 1)).severity).toBe('Low');
    expect(active.activeVersion('Test.Delete')?.version).toBe(2);
    expect(store.audit.map(({ entry }) => entry.action)).toEqual(['rule.create', 'rule.update']);
  });

  it('refuses a rule whose tests fail (422), storing nothing', async () => {
    const error = await refusal(rules.upsert(rule('Test.Failing', { tests: FAILING_TESTS }), UPLOAD));
    expect(error.status).toBe(422);
    expect(error.code).toBe('rule_tests_failed');
    expect(error.extensions.failedTests).toMatchObject([{ name: 'read matches', passed: false }]);
    expect(store.rules).toEqual([]);
    expect(store.versions).toEqual([]);
  });

  it('stores a rule whose tests fail disabled with storeDisabled, and does not run it', async () => {
    const result = await rules.upsert(rule('Test.Failing', { tests: FAILING_TESTS }), {
      ...UPLOAD,
      storeDisabled: true,
    });
    expect(result.action).toBe('created');
    expect(result.rule).toMatchObject({ version: 1, enabled: false, running: false, notRunning: 'disabled' });
    expect(result.rule.tests).toEqual({ passed: 0, failed: 1 });
    expect(running()).toEqual([]);
  });

  it('keeps a new version of a rule a user disabled from running until it is enabled', async () => {
    await rules.upsert(rule('Test.Delete'), UPLOAD);
    expect((await rules.setEnabled('Test.Delete', false, ACTOR)).enabled).toBe(false);
    expect(running()).toEqual([]);
    const updated = await rules.upsert(rule('Test.Delete', { severity: 'High' }), UPLOAD);
    expect(updated.rule).toMatchObject({ version: 2, enabled: false });
    expect(running()).toEqual([]);
    await rules.setEnabled('Test.Delete', true, ACTOR);
    expect(active.activeVersion('Test.Delete')?.version).toBe(2);
    expect(store.audit.map(({ entry }) => entry.action)).toEqual([
      'rule.create',
      'rule.disable',
      'rule.update',
      'rule.enable',
    ]);
  });

  it('replaces a rule by its RuleID, and refuses a body with another RuleID or an unknown rule', async () => {
    await rules.upsert(rule('Test.Delete'), UPLOAD);
    const replaced = await rules.replace('Test.Delete', rule('Test.Delete', { severity: 'High' }), UPLOAD);
    expect(replaced).toMatchObject({ action: 'updated', rule: { version: 2, severity: 'High' } });

    const mismatch = await refusal(rules.replace('Test.Delete', rule('Test.Other'), UPLOAD));
    expect([mismatch.status, mismatch.code]).toEqual([422, 'rule_id_mismatch']);
    const unknown = await refusal(rules.replace('Test.Missing', rule('Test.Missing'), UPLOAD));
    expect([unknown.status, unknown.code]).toEqual([404, 'rule_not_found']);
    expect(store.rules.map((stored) => stored.ruleId)).toEqual(['Test.Delete']);
    expect(store.versions).toHaveLength(2);
  });

  it('deletes a rule, keeping its versions, and an upload restores it as a new version', async () => {
    await rules.upsert(rule('Test.Delete'), UPLOAD);
    await rules.delete('Test.Delete', ACTOR);
    expect(running()).toEqual([]);
    expect((await refusal(rules.get('Test.Delete'))).code).toBe('rule_not_found');
    expect((await rules.list({ limit: 10 })).items).toEqual([]);
    expect((await rules.versions('Test.Delete')).map((v) => v.version)).toEqual([1]);
    expect((await refusal(rules.delete('Test.Delete', ACTOR))).status).toBe(404);

    // The same source again: a deleted rule has no current version, so it is stored anew.
    const restored = await rules.upsert(rule('Test.Delete'), UPLOAD);
    expect(restored).toMatchObject({ action: 'created', rule: { version: 2, enabled: true } });
    expect(store.audit.at(-1)?.entry).toMatchObject({
      action: 'rule.create',
      details: { version: 2, restored: true },
    });
    expect(active.activeVersion('Test.Delete')?.version).toBe(2);
  });

  it('lists current rules by RuleID with filters and a cursor', async () => {
    for (const ruleId of ['Test.C', 'Test.A', 'Test.B'])
      await rules.upsert(rule(ruleId, { severity: ruleId === 'Test.B' ? 'High' : 'Low' }), UPLOAD);
    const first = await rules.list({ limit: 2 });
    expect(first.items.map((item) => item.ruleId)).toEqual(['Test.A', 'Test.B']);
    expect(first.nextCursor).not.toBeNull();
    const second = await rules.list({ limit: 2, cursor: first.nextCursor ?? undefined });
    expect(second).toMatchObject({ items: [{ ruleId: 'Test.C' }], nextCursor: null });
    expect((await rules.list({ limit: 10, severity: ['high'] })).items.map((i) => i.ruleId)).toEqual([
      'Test.B',
    ]);
    expect((await refusal(rules.list({ limit: 10, cursor: '!' }))).code).toBe('invalid_parameters');
  });

  it('previews a pack with dryRun, storing nothing, then imports it in one go', async () => {
    await rules.upsert(rule('Test.A'), UPLOAD);
    const pack = [rule('Test.A'), rule('Test.B'), rule('Test.C', { severity: 'High' })].join('---\n');

    const preview = await rules.import([{ text: pack, format: 'yaml' }], {
      ...UPLOAD,
      origin: 'import',
      dryRun: true,
    });
    expect(preview).toMatchObject({ dryRun: true, created: 2, updated: 0, unchanged: 1 });
    expect(preview.rules.map((item) => [item.ruleId, item.action, item.version])).toEqual([
      ['Test.A', 'unchanged', 1],
      ['Test.B', 'created', 1],
      ['Test.C', 'created', 1],
    ]);
    expect(store.rules.map((stored) => stored.ruleId)).toEqual(['Test.A']);
    expect(running()).toEqual(['Test.A']);

    const imported = await rules.import([{ text: pack, format: 'yaml' }], {
      ...UPLOAD,
      origin: 'import',
      dryRun: false,
    });
    expect(imported).toMatchObject({ dryRun: false, created: 2, updated: 0, unchanged: 1 });
    expect(store.versions.map((v) => [v.ruleId, v.origin])).toEqual([
      ['Test.A', 'api'],
      ['Test.B', 'import'],
      ['Test.C', 'import'],
    ]);
    expect(running()).toEqual(['Test.A', 'Test.B', 'Test.C']);
  });

  it('refuses a pack with a failing rule as a whole (422), or stores that rule disabled', async () => {
    const pack = [rule('Test.A'), rule('Test.Failing', { tests: FAILING_TESTS })].join('---\n');
    const error = await refusal(rules.import([{ text: pack, format: 'yaml' }], { ...UPLOAD, dryRun: false }));
    expect([error.status, error.code]).toEqual([422, 'rule_tests_failed']);
    expect(store.rules).toEqual([]);

    const stored = await rules.import([{ text: pack, format: 'yaml' }], {
      ...UPLOAD,
      storeDisabled: true,
      dryRun: false,
    });
    expect(stored.rules.map((item) => [item.ruleId, item.enabled, item.failedTests?.length])).toEqual([
      ['Test.A', true, undefined],
      ['Test.Failing', false, 1],
    ]);
    expect(running()).toEqual(['Test.A']);
  });

  it('exports the current rules with their state, and the built-in pack never overwrites a user version', async () => {
    await rules.upsert(rule('Test.A'), UPLOAD);
    await rules.setEnabled('Test.A', false, ACTOR);
    expect(await rules.export()).toContain('Enabled: false');

    const [builtin] = (
      await checkRuleSources(rule('Test.A', { severity: 'High' }), { ignoreExtraKeys: false })
    ).rules;
    if (!builtin) throw new Error('the built-in rule does not load');
    const installBuiltin = async (checked: CheckedRule) =>
      (await rules.installBuiltinPack([checked])).outcomes.get(checked.definition.ruleId);
    expect(await installBuiltin(builtin)).toBe('kept-user-version');
    const [fresh] = (await checkRuleSources(rule('Test.Builtin'), { ignoreExtraKeys: false })).rules;
    if (!fresh) throw new Error('the built-in rule does not load');
    expect(await installBuiltin(fresh)).toBe('created');
    expect(await installBuiltin(fresh)).toBe('unchanged');
    expect(store.versions.at(-1)).toMatchObject({
      ruleId: 'Test.Builtin',
      origin: 'builtin',
      createdByKey: 'system',
    });
  });
  it('installs a whole built-in pack in one unit of work, and again writes only what changed', async () => {
    // The pack is read and compiled; installing it runs the tests of the rules it stores.
    const check = (text: string) => {
      const [read] = readRuleSources(text, { ignoreExtraKeys: false }).rules;
      if (!read) throw new Error('the built-in rule does not load');
      return read;
    };
    const pack = [
      check(rule('Test.A')),
      check(rule('Test.B')),
      check(rule('Test.Failing', { tests: FAILING_TESTS })),
    ];
    const first = await rules.installBuiltinPack(pack);
    expect([...first.outcomes]).toEqual([
      ['Test.A', 'created'],
      ['Test.B', 'created'],
      ['Test.Failing', 'created'],
    ]);
    const failures = (install: BuiltinPackInstall) =>
      [...install.tests].map(([ruleId, tests]) => [ruleId, tests.filter((test) => !test.passed).length]);
    expect(failures(first)).toEqual([
      ['Test.A', 0],
      ['Test.B', 0],
      ['Test.Failing', 1],
    ]);
    expect(store.versions.map((v) => [v.ruleId, v.version, v.origin, v.testsFailed])).toEqual([
      ['Test.A', 1, 'builtin', 0],
      ['Test.B', 1, 'builtin', 0],
      ['Test.Failing', 1, 'builtin', 1],
    ]);
    expect(store.rules.map((stored) => [stored.ruleId, stored.enabled])).toEqual([
      ['Test.A', true],
      ['Test.B', true],
      ['Test.Failing', false],
    ]);
    expect(store.audit.map(({ actor, entry }) => [actor.keyId, entry.action, entry.targetId])).toEqual([
      ['system', 'rule.create', 'Test.A'],
      ['system', 'rule.create', 'Test.B'],
      ['system', 'rule.create', 'Test.Failing'],
    ]);
    // The active set is the caller's to rebuild, with the rules the pack compiled.
    expect(running()).toEqual([]);
    await active.refresh(first.compiled);
    expect(running()).toEqual(['Test.A', 'Test.B']);
    expect(active.activeVersion('Test.A')?.compiled).toBe(pack[0]?.compiled);

    await rules.delete('Test.B', ACTOR);
    await rules.upsert(rule('Test.Failing'), UPLOAD);
    const again = await rules.installBuiltinPack([
      check(rule('Test.A', { severity: 'High' })),
      check(rule('Test.B', { severity: 'High' })),
      check(rule('Test.Failing', { severity: 'High' })),
      check(rule('Test.New')),
    ]);
    expect([...again.outcomes]).toEqual([
      ['Test.A', 'updated'],
      ['Test.B', 'kept-deleted'],
      ['Test.Failing', 'kept-user-version'],
      ['Test.New', 'created'],
    ]);
    // Only what gets a new version is tested.
    expect(failures(again)).toEqual([
      ['Test.A', 0],
      ['Test.New', 0],
    ]);
    expect(store.versions.slice(3).map((v) => [v.ruleId, v.version, v.origin])).toEqual([
      ['Test.Failing', 2, 'api'],
      ['Test.A', 2, 'builtin'],
      ['Test.New', 1, 'builtin'],
    ]);
    expect(store.audit.slice(-2).map(({ entry }) => [entry.action, entry.targetId, entry.details])).toEqual([
      ['rule.update', 'Test.A', { version: 2, origin: 'builtin', enabled: true }],
      ['rule.create', 'Test.New', { version: 1, origin: 'builtin', enabled: true }],
    ]);

    const versionsBefore = store.versions.length;
    const auditBefore = store.audit.length;
    const unchanged = await rules.installBuiltinPack([check(rule('Test.A', { severity: 'High' }))]);
    expect([...unchanged.outcomes]).toEqual([['Test.A', 'unchanged']]);
    expect([store.versions.length, store.audit.length]).toEqual([versionsBefore, auditBefore]);
    // Its tests ran when its current version was stored, from the same source: not again.
    expect(unchanged.tests.size).toBe(0);
    // An unchanged rule's compiled form is offered for its current version all the same.
    expect([...unchanged.compiled.keys()]).toEqual([
      store.versions.find((v) => v.ruleId === 'Test.A' && v.version === 2)?.id,
    ]);
  });

  it('refuses a built-in pack that defines a RuleID twice, storing nothing', async () => {
    const [checked] = (await checkRuleSources(rule('Test.A'), { ignoreExtraKeys: false })).rules;
    if (!checked) throw new Error('the built-in rule does not load');
    await expect(rules.installBuiltinPack([checked, checked])).rejects.toThrow('defines a RuleID twice');
    expect(store.rules).toEqual([]);
  });
});
