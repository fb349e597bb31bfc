// Alerts: list with filters, one alert with its hits and its triage history, and status changes.
import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '../audit/audit.service.js';
import { ConflictError, InvalidParametersError, NotFoundError } from '../common/errors.js';
import {
  cursor,
  encodeCursor,
  instant,
  list,
  pageSize,
  rejectUnknown,
  single,
  type KeysetPosition,
  type RawQuery,
} from '../common/query-params.js';
import { severityList } from '../hits/hit-filters.js';
import { isoTime } from '../hits/hit-views.js';
import { HitsService, type HitPage } from '../hits/hits.service.js';
import type { AlertStatus } from '../storage/entities.js';
import { readTime } from '../storage/sql.js';
import { ALERT_STORE, type AlertFilters, type AlertRow, type AlertStore } from './alert-store.js';

export const TRIAGE_STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'closed'];
export const LISTED_STATUSES: readonly AlertStatus[] = ['pending', ...TRIAGE_STATUSES];
export const DEFAULT_ALERT_PAGE = 100;
export const MAX_ALERT_PAGE = 1000;

export interface AlertView {
  id: number;
  ruleId: string;
  dedupKey: string;
  title: string;
  severity: string;
  status: AlertStatus;
  firstEventTime: string;
  lastEventTime: string;
  hitCount: number;
  threshold: number;
  openedAt: string | null;
  updatedAt: string;
}

export interface StatusChangeView {
  from: AlertStatus;
  to: AlertStatus;
  comment: string | null;
  changedBy: string | null;
  changedAt: string;
}

function alertView(row: AlertRow): AlertView {
  return {
    id: row.id,
    ruleId: row.rule_id,
    dedupKey: row.dedup_key,
    title: row.title,
    severity: row.severity,
    status: row.status,
    firstEventTime: isoTime(row.first_event_time),
    lastEventTime: isoTime(row.last_event_time),
    hitCount: row.hit_count,
    threshold: row.threshold,
    openedAt: row.opened_at === null ? null : isoTime(row.opened_at),
    updatedAt: isoTime(row.updated_at),
  };
}

/** Filters of GET /v1/alerts. Pending alerts (below their threshold) show only when asked for. */
export function parseAlertFilters(query: RawQuery): AlertFilters {
  rejectUnknown(query, ['status', 'ruleId', 'severity', 'since', 'until', 'limit', 'cursor']);
  const statuses = (list(query, 'status') ?? [...TRIAGE_STATUSES]).map((status) => {
    const found = LISTED_STATUSES.find((candidate) => candidate === status.toLowerCase());
    if (!found)
      throw new InvalidParametersError([
        { parameter: 'status', message: `status must be one of ${LISTED_STATUSES.join(', ')}` },
      ]);
    return found;
  });
  const since = instant(query, 'since');
  const until = instant(query, 'until');
  if (since !== undefined && until !== undefined && since >= until) {
    throw new InvalidParametersError([{ parameter: 'until', message: 'until must be later than since' }]);
  }
  return {
    statuses: [...new Set(statuses)],
    ruleId: single(query, 'ruleId'),
    severities: severityList(query, 'severity'),
    since,
    until,
    limit: pageSize(query, 'limit', DEFAULT_ALERT_PAGE, MAX_ALERT_PAGE),
    after: cursor(query, 'cursor'),
  };
}

@Injectable()
export class AlertsService {
  constructor(
    @Inject(ALERT_STORE) private readonly store: AlertStore,
    private readonly hits: HitsService,
  ) {}

  async list(filters: AlertFilters): Promise<{ items: AlertView[]; nextCursor: string | null }> {
    const rows = await this.store.read((alerts) => alerts.newestAlerts(filters));
    const page = rows.slice(0, filters.limit);
    const last = page.at(-1);
    return {
      items: page.map(alertView),
      nextCursor:
        rows.length > filters.limit && last
          ? encodeCursor({ time: readTime(last.first_event_time), id: last.id })
          : null,
    };
  }

  async get(
    id: number,
    hitsPage: { limit: number; after?: KeysetPosition },
  ): Promise<AlertView & { history: StatusChangeView[]; hits: HitPage }> {
    const { alert, history } = await this.store.read(async (alerts) => {
      const row = await alerts.findAlert(id);
      if (!row) throw new NotFoundError('alert', String(id));
      return { alert: row, history: await alerts.statusChanges(id) };
    });
    const hits = await this.hits.list({
      alertId: id,
      fields: [],
      limit: hitsPage.limit,
      after: hitsPage.after,
    });
    return {
      ...alertView(alert),
      history: history.map((change) => ({
        from: change.fromStatus,
        to: change.toStatus,
        comment: change.comment,
        changedBy: change.changedByKey,
        changedAt: change.changedAt.toISOString(),
      })),
      hits,
    };
  }

  /** Moves an alert between open, acknowledged and closed; every change is kept with its time and comment. */
  async setStatus(
    id: number,
    status: AlertStatus,
    comment: string | undefined,
    actor: Actor,
  ): Promise<AlertView> {
    const row = await this.store.write(async (alerts) => {
      const found = await alerts.findAlert(id);
      if (!found) throw new NotFoundError('alert', String(id));
      // Ingest (on this or another instance) may be adding hits to this alert: wait, then read it again.
      await alerts.lockAlertGroup(found.rule_id, found.dedup_key);
      const current = (await alerts.findAlert(id)) as AlertRow;
      if (current.status === 'pending') {
        throw new ConflictError(
          'alert_pending',
          `alert ${id} has not reached its threshold (${current.hit_count} of ${current.threshold} hits) and cannot be triaged yet`,
        );
      }
      if (current.status === status && comment === undefined) return current; // nothing changes, nothing to record
      await alerts.changeStatus({
        alertId: id,
        fromStatus: current.status,
        toStatus: status,
        comment: comment ?? null,
        changedByKey: actor.keyId,
        changedAt: new Date(),
      });
      await alerts.recordAudit(actor, {
        action: 'alert.status',
        targetType: 'alert',
        targetId: String(id),
        details: { from: current.status, to: status },
      });
      return (await alerts.findAlert(id)) as AlertRow;
    });
    return alertView(row);
  }
}
