// Panther's own simple-detection fixtures: every file loads, every test passes, every invalid file is
// refused with an error naming the offending key.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRule } from '../src/engine/compile.js';
import { formatDiagnostic } from '../src/engine/diagnostics.js';
import { loadRulePaths } from '../src/engine/pack.js';
import { describeFailure, runRuleTests } from '../src/engine/test-runner.js';
import { CONFORMANCE_DIR, hasShared, sharedSuiteTitle } from './support/shared.js';

/**
 * Fixture tests that no consistent semantics can pass, with the reason. Each must fail exactly as
 * described; if one starts to pass, this list is wrong and the test says so.
 */
const KNOWN_CONTRADICTIONS: Record<string, string> = {
  // Its two 403 logs differ only in sourceIPs[0]; it expects `IsIPAddressPrivate: true` to be false
  // for 10.0.27.115 and true for 5.5.5.5, while AWS.VPC.InboundPortWhitelist expects the same
  // condition to be true for 10.0.0.1. The file itself says it "Requires … for fix".
  'Amazon.EKS.Audit.Multiple403 › 403 and Private IP': 'ExpectedResult: expected false, got true',
  'Amazon.EKS.Audit.Multiple403 › 403 and Public IP': 'ExpectedResult: expected true, got false',
};

describe.skipIf(!hasShared(CONFORMANCE_DIR))(
  sharedSuiteTitle('Panther simple-detection conformance', CONFORMANCE_DIR),
  () => {
    it('loads all 37 valid files (extra keys ignored) and passes their 77 tests', async () => {
      const loaded = await loadRulePaths([join(CONFORMANCE_DIR, 'valid')], { ignoreExtraKeys: true });
      const errors = loaded.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      expect(errors).toEqual([]);
      expect(loaded.files).toHaveLength(37);
      expect(loaded.rules).toHaveLength(37);

      const results = loaded.rules.flatMap((rule) => runRuleTests(compileRule(rule)));
      expect(results).toHaveLength(77);
      const failures = Object.fromEntries(
        results
          .filter((r) => !r.passed)
          .map((r) => [`${r.ruleId} › ${r.name}`, r.failures.map(describeFailure).join('; ')]),
      );
      expect(failures).toEqual(KNOWN_CONTRADICTIONS);
    });

    it('refuses the extra top-level key without ignoreExtraKeys, naming it', async () => {
      const loaded = await loadRulePaths([join(CONFORMANCE_DIR, 'valid', 'Test.Extra.Top.Level.Keys.yml')]);
      expect(loaded.rules).toEqual([]);
      expect(loaded.diagnostics).toMatchObject([
        { severity: 'error', code: 'unknown_key', key: 'ThisIsNotARealTopLevelKey', line: 33 },
      ]);
    });

    it.each([
      ['invalid_Test.MultiMatch.Key.yml', 'Detection[0].Values'],
      ['invalid_asana_team_privacy.yml', 'Detection[1].Extra'],
      ['invalid_asana_team_privacy.yml', 'Detection[1].DeepKey'],
      ['invalid_gcp_gcs_public.yml', 'Filename'],
    ])('refuses invalid/%s naming %s', async (file, key) => {
      const loaded = await loadRulePaths([join(CONFORMANCE_DIR, 'invalid', file)], { ignoreExtraKeys: true });
      expect(loaded.rules).toEqual([]);
      const keys = loaded.diagnostics.filter((d) => d.severity === 'error').map((d) => d.key);
      expect(keys).toContain(key);
      for (const diagnostic of loaded.diagnostics) expect(diagnostic.line).toBeGreaterThan(0);
    });
  },
);
