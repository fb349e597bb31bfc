// Reading hits: filters on rule, severity, log type, alert, event time and any output field, newest
// first, in keyset pages that stay exact while new hits arrive.
import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors.js';
import { encodeCursor } from '../common/query-params.js';
import { readTime } from '../storage/sql.js';
import type { HitFilters } from './hit-filters.js';
import { HIT_STORE, type HitStore } from './hit-store.js';
import { hitJson, hitView, type HitRow, type HitView } from './hit-views.js';

export interface HitPage {
  items: HitView[];
  nextCursor: string | null;
}

function newestFirst(a: HitRow, b: HitRow): number {
  return readTime(b.event_time) - readTime(a.event_time) || b.id - a.id;
}

@Injectable()
export class HitsService {
  constructor(@Inject(HIT_STORE) private readonly store: HitStore) {}

  async list(filters: HitFilters): Promise<HitPage> {
    const { rows, nextCursor } = await this.page(filters);
    return { items: rows.map(hitView), nextCursor };
  }

  /** `list` as the JSON text of its HitPage, written without parsing the hits' stored JSON (hitJson). */
  async listJson(filters: HitFilters): Promise<string> {
    const { rows, nextCursor } = await this.page(filters);
    return `{"items":[${rows.map(hitJson).join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`;
  }

  private async page(filters: HitFilters): Promise<{ rows: HitRow[]; nextCursor: string | null }> {
    const severities = filters.severities ?? [undefined];
    const rows = await this.store.read(async (hits) => {
      const found: HitRow[] = [];
      for (const severity of new Set(severities)) found.push(...(await hits.newestHits(filters, severity)));
      return found;
    });
    rows.sort(newestFirst);
    const page = rows.slice(0, filters.limit);
    const last = page.at(-1);
    const nextCursor =
      rows.length > filters.limit && last
        ? encodeCursor({ time: readTime(last.event_time), id: last.id })
        : null;
    return { rows: page, nextCursor };
  }

  /** One hit with its event, and the exact rule version that made it (even if the rule changed since). */
  async get(id: number): Promise<HitView & { rule: Record<string, unknown> }> {
    return this.store.read(async (hits) => {
      const row = await hits.findHit(id);
      if (!row) throw new NotFoundError('hit', String(id));
      const version = await hits.ruleVersion(row.rule_version_id);
      return {
        ...hitView(row),
        rule: {
          ruleId: version.ruleId,
          version: version.version,
          origin: version.origin,
          createdAt: version.createdAt.toISOString(),
          contentHash: version.contentHash,
          severity: version.metadata.severity,
          displayName: version.metadata.displayName,
          source: version.sourceText,
        },
      };
    });
  }
}
