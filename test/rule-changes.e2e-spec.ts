// Concurrent rule changes and the atomic swap of the compiled rule set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareEvent } from '../src/engine/events.js';
import { ActiveRuleSet } from '../src/rules/active-rule-set.service.js';
import { http, removeDatabase, startApp, type RunningApp } from './support/app.js';

function rule(ruleId: string, eventName: string): string {
  return `AnalysisType: rule
RuleID: ${ruleId}
LogTypes: [AWS.CloudTrail]
Severity: Low
Condition: eventName eq "${eventName}"
Tests:
  - Name: matches
    ExpectedResult: true
    Log: { eventName: ${eventName} }
`;
}

const loginEvent = () => {
  const prepared = prepareEvent(
    {
      eventVersion: '1.08',
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      userIdentity: { type: 'Root' },
    },
    { receivedAt: new Date() },
  );
  if (!prepared.ok) throw new Error(prepared.error);
  return prepared.event;
};

describe('rule changes', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ builtinRules: false });
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('concurrent uploads each get their own transaction and version number', async () => {
    const uploads = [
      ...Array.from({ length: 10 }, (_, i) =>
        http(running.url, 'POST', '/v1/rules', { body: rule(`Concurrent.R${i}`, 'ConsoleLogin') }),
      ),
      ...Array.from({ length: 10 }, (_, i) =>
        http(running.url, 'POST', '/v1/rules', { body: rule('Concurrent.Same', `Event${i}`) }),
      ),
    ];
    const answers = await Promise.all(uploads);
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(201));
    const versions = await http(running.url, 'GET', '/v1/rules/Concurrent.Same/versions');
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    const list = await http(running.url, 'GET', '/v1/rules?q=Concurrent.R');
    expect(list.body.items).toHaveLength(10);
  });

  it('swaps the compiled rule set atomically: a set taken before a change keeps its rules', async () => {
    const active = running.app.get(ActiveRuleSet);
    await http(running.url, 'POST', '/v1/rules', { body: rule('Swap.Login', 'ConsoleLogin') });
    const before = active.current;
    expect(before.evaluate(loginEvent(), 'AWS.CloudTrail').map((hit) => hit.ruleId)).toContain('Swap.Login');
    expect(active.activeVersion('Swap.Login')?.version).toBe(1);

    await http(running.url, 'PATCH', '/v1/rules/Swap.Login', { body: { enabled: false } });
    const after = active.current;
    expect(after).not.toBe(before);
    expect(after.evaluate(loginEvent(), 'AWS.CloudTrail').map((hit) => hit.ruleId)).not.toContain(
      'Swap.Login',
    );
    // Work that started on the old set finishes on it, unchanged.
    expect(before.evaluate(loginEvent(), 'AWS.CloudTrail').map((hit) => hit.ruleId)).toContain('Swap.Login');

    await http(running.url, 'PUT', '/v1/rules/Swap.Login', {
      body: rule('Swap.Login', 'ConsoleLogin').replace('Severity: Low', 'Severity: High'),
    });
    // A new version keeps the rule disabled: the user's PATCH stands until someone enables it.
    expect(active.activeVersion('Swap.Login')).toBeUndefined();
    await http(running.url, 'PATCH', '/v1/rules/Swap.Login', { body: { enabled: true } });
    expect(active.activeVersion('Swap.Login')?.version).toBe(2);
    expect(
      active.current.evaluate(loginEvent(), 'AWS.CloudTrail').find((hit) => hit.ruleId === 'Swap.Login')
        ?.severity,
    ).toBe('High');
    await http(running.url, 'DELETE', '/v1/rules/Swap.Login');
    expect(active.activeVersion('Swap.Login')).toBeUndefined();
  });
});
