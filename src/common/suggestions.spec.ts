import { describe, expect, it } from 'vitest';
import { didYouMean } from './suggestions.js';

describe('didYouMean', () => {
  const parameters = ['ruleId', 'severity', 'logType', 'alertId', 'since', 'until', 'limit', 'cursor'];

  it('offers the same name in another case, a longer name it starts, or one a keystroke or two away', () => {
    expect(didYouMean('AWS.Cloudtrail', ['AWS.CloudTrail', 'Okta.SystemLog'])).toBe('AWS.CloudTrail');
    expect(didYouMean('rule', parameters)).toBe('ruleId');
    expect(didYouMean('severty', parameters)).toBe('severity');
    expect(didYouMean('cursr', parameters)).toBe('cursor');
    expect(didYouMean('AWS.CloudTrial', ['AWS.CloudTrail'])).toBe('AWS.CloudTrail');
  });

  it('offers nothing far off, ambiguous, or identical', () => {
    expect(didYouMean('banana', parameters)).toBeUndefined();
    expect(didYouMean('li', ['limit', 'list'])).toBeUndefined();
    expect(didYouMean('x', parameters)).toBeUndefined();
    expect(didYouMean('ruleId', parameters)).toBeUndefined();
    expect(didYouMean('ab', ['ac', 'ad'])).toBeUndefined();
  });
});
