// Which alert each hit belongs to. Hits of one rule with one dedup key form one alert while their event
// times fall within DedupPeriodMinutes of the alert's first event; the alert opens at its Threshold-th
// hit. Plain logic over plain data: the writer loads existing alerts and stores the result.
import { severityRank, type Severity } from '../engine/rule.js';

export interface GroupingPolicy {
  dedupPeriodMinutes: number;
  threshold: number;
  createAlert: boolean;
}

export interface GroupableHit {
  ruleId: string;
  dedupKey: string;
  title: string;
  severity: Severity;
  /** Event time, epoch ms: the clock alerts group by. */
  eventTime: number;
  policy: GroupingPolicy;
}

export interface AlertState {
  /** Undefined until a new alert is stored. */
  id: number | undefined;
  ruleId: string;
  dedupKey: string;
  title: string;
  severity: Severity;
  status: 'pending' | 'open' | 'acknowledged' | 'closed';
  firstEventTime: number;
  lastEventTime: number;
  windowEnd: number;
  hitCount: number;
  threshold: number;
  openedAt: Date | null;
  /** Made by this batch (to insert) rather than loaded (to update). */
  isNew: boolean;
  changed: boolean;
  /** Reached its threshold in this batch. */
  openedNow: boolean;
}

export function groupKey(ruleId: string, dedupKey: string): string {
  return `${ruleId}\u0000${dedupKey}`;
}

/** The lock family that lets one transaction at a time change the alerts of a group (see lockNames). */
export const ALERT_GROUP_LOCKS = 'alert-group';

/**
 * Assigns each hit to an alert, updating `existing` (alerts loaded per group key, closed ones left out)
 * with new and changed alerts. Returns the alert of each hit, in the order of `hits`; undefined for rules
 * with `CreateAlert: false`. Hits are taken in event-time order, so a batch groups the same way however
 * its events were ordered.
 */
export function assignAlerts(
  hits: readonly GroupableHit[],
  existing: Map<string, AlertState[]>,
  now: Date,
): (AlertState | undefined)[] {
  const order = hits
    .map((_, index) => index)
    .sort((a, b) => (hits[a]?.eventTime ?? 0) - (hits[b]?.eventTime ?? 0) || a - b);
  const assigned: (AlertState | undefined)[] = new Array<AlertState | undefined>(hits.length);
  for (const position of order) {
    const hit = hits[position] as GroupableHit;
    if (!hit.policy.createAlert) continue;
    const key = groupKey(hit.ruleId, hit.dedupKey);
    let alerts = existing.get(key);
    if (!alerts) {
      alerts = [];
      existing.set(key, alerts);
    }
    const period = Math.max(0, hit.policy.dedupPeriodMinutes) * 60_000;
    let alert = alertFor(alerts, hit.eventTime, period);
    if (!alert) {
      alert = {
        id: undefined,
        ruleId: hit.ruleId,
        dedupKey: hit.dedupKey,
        title: hit.title,
        severity: hit.severity,
        status: 'pending',
        firstEventTime: hit.eventTime,
        lastEventTime: hit.eventTime,
        windowEnd: hit.eventTime + period,
        hitCount: 0,
        threshold: hit.policy.threshold,
        openedAt: null,
        isNew: true,
        changed: true,
        openedNow: false,
      };
      alerts.push(alert);
    }
    alert.hitCount += 1;
    // A late event earlier than the alert's first one becomes its first; its window keeps its end.
    alert.firstEventTime = Math.min(alert.firstEventTime, hit.eventTime);
    alert.lastEventTime = Math.max(alert.lastEventTime, hit.eventTime);
    if (severityRank(hit.severity) > severityRank(alert.severity)) alert.severity = hit.severity;
    if (alert.status === 'pending' && alert.hitCount >= alert.threshold) {
      alert.status = 'open';
      alert.openedAt = now;
      alert.openedNow = true;
    }
    alert.changed = true;
    assigned[position] = alert;
  }
  return assigned;
}

/**
 * The alert a hit at `time` joins: one whose window [first, end) holds it (the latest such), else one
 * whose first event is less than a period after it (a late event arriving after the alert began).
 * Closed alerts take no more hits.
 */
function alertFor(alerts: readonly AlertState[], time: number, period: number): AlertState | undefined {
  let holding: AlertState | undefined;
  let ahead: AlertState | undefined;
  for (const alert of alerts) {
    if (alert.status === 'closed') continue;
    if (time >= alert.firstEventTime && time < alert.windowEnd) {
      if (!holding || alert.firstEventTime > holding.firstEventTime) holding = alert;
    } else if (time < alert.firstEventTime && alert.firstEventTime - time < period) {
      if (!ahead || alert.firstEventTime < ahead.firstEventTime) ahead = alert;
    }
  }
  return holding ?? ahead;
}
