import { describe, expect, it } from 'vitest';
import { compileGuard, type GuardSpec } from './guard-filter.js';

const guard = (spec: Partial<GuardSpec>) => {
  const compiled = compileGuard({
    method: 'get',
    keys: ['eventName'],
    values: ['DeleteTrail', 'StopLogging'],
    onlyStrings: true,
    defaultAdmitted: false,
    ...spec,
  });
  if (!compiled) throw new Error('not compiled');
  return compiled;
};

describe('Python guards applied before sending', () => {
  it('reads a key as Panther’s event does: exactly, else ignoring case, the first key written winning', () => {
    const admits = guard({});
    expect(admits({ eventName: 'DeleteTrail' })).toBe(true);
    expect(admits({ eventName: 'CreateTrail' })).toBe(false);
    expect(admits({ EVENTNAME: 'StopLogging' })).toBe(true);
    expect(admits({ EventName: 'StopLogging', eventname: 'CreateTrail' })).toBe(true);
    // Absent: the rule's default, which the worker said is not admitted.
    expect(admits({})).toBe(false);
    expect(guard({ defaultAdmitted: true })({})).toBe(true);
  });

  it('keeps out what Python never finds in a set of strings, and lets objects and lists through', () => {
    const admits = guard({});
    expect(admits({ eventName: null })).toBe(false);
    expect(admits({ eventName: 7 })).toBe(false);
    expect(admits({ eventName: true })).toBe(false);
    expect(admits({ eventName: ['DeleteTrail'] })).toBe(true);
    expect(admits({ eventName: { name: 'x' } })).toBe(true);
  });

  it('follows deep_get: a missing level, a non-object on the way or None at the end is the default', () => {
    const admits = guard({ method: 'deep_get', keys: ['userIdentity', 'type'], values: ['Root'] });
    expect(admits({ userIdentity: { type: 'Root' } })).toBe(true);
    expect(admits({ USERIDENTITY: { TYPE: 'Root' } })).toBe(true);
    expect(admits({ userIdentity: { type: 'IAMUser' } })).toBe(false);
    expect(admits({ userIdentity: null })).toBe(false);
    expect(admits({ userIdentity: 'Root' })).toBe(false);
    expect(admits({ userIdentity: { type: null } })).toBe(false);
    expect(guard({ method: 'deep_get', keys: ['a', 'b'], values: ['x'], defaultAdmitted: true })({})).toBe(
      true,
    );
  });

  it('admits where it cannot be sure to read as Python does, and applies no guard on values other than strings', () => {
    const admits = guard({});
    expect(admits({ éventName: 'CreateTrail' })).toBe(true); // a non-ASCII key: case folding may differ
    expect(admits('not an object')).toBe(true);
    expect(
      compileGuard({ method: 'get', keys: ['n'], values: [], onlyStrings: false, defaultAdmitted: false }),
    ).toBeUndefined();
  });
});
