import { describe, expect, it } from 'vitest';
import { MAX_LOG_TYPE_LABELS, MetricsService } from './metrics.service.js';

const pool = () => ({ total: 4, idle: 3, waiting: 2 });

describe('MetricsService', () => {
  it('has a registry of its own: two services count apart', async () => {
    const first = new MetricsService(pool);
    const second = new MetricsService(pool);
    first.countEvents(new Map([['AWS.CloudTrail', { accepted: 2, rejected: 1 }]]));
    expect(await first.render()).toContain('tripline_events_received_total{log_type="AWS.CloudTrail"} 3');
    expect(await second.render()).not.toContain('log_type="AWS.CloudTrail"');
    expect(await second.render()).toContain('tripline_database_pool_waiting_queries 2');
  });

  it('labels events with no log type "unknown", and log types past the limit "(other)"', async () => {
    const metrics = new MetricsService(pool);
    const many = new Map<string | undefined, { accepted: number; rejected: number }>(
      Array.from({ length: MAX_LOG_TYPE_LABELS + 5 }, (_, i) => [
        `Custom.T${i}`,
        { accepted: 1, rejected: 0 },
      ]),
    );
    many.set(undefined, { accepted: 0, rejected: 4 });
    metrics.countEvents(many);
    const text = await metrics.render();
    expect(text).toContain(`tripline_events_accepted_total{log_type="Custom.T${MAX_LOG_TYPE_LABELS - 1}"} 1`);
    expect(text).not.toContain(`log_type="Custom.T${MAX_LOG_TYPE_LABELS}"`);
    expect(text).toContain('tripline_events_accepted_total{log_type="(other)"} 5');
    expect(text).toContain('tripline_events_rejected_total{log_type="unknown"} 4');
    expect(text).not.toContain('tripline_events_accepted_total{log_type="unknown"}');
  });

  it('adds a stored batch’s hits, alerts and rule errors per rule', async () => {
    const metrics = new MetricsService(pool);
    for (let batch = 0; batch < 2; batch += 1) {
      metrics.countStored({
        hitsStored: new Map([['R.One', 3]]),
        alertsOpened: new Map([['R.One', 1]]),
        ruleErrors: new Map([['R.Two', { count: 2, lastError: 'boom' }]]),
      });
    }
    const text = await metrics.render();
    expect(text).toContain('tripline_hits_stored_total{rule_id="R.One"} 6');
    expect(text).toContain('tripline_alerts_opened_total{rule_id="R.One"} 2');
    expect(text).toContain('tripline_rule_errors_total{rule_id="R.Two"} 4');
  });
});
