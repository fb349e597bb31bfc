// What the enabled rules cover in MITRE ATT&CK, and how often each technique fired in a range.
import { Inject, Injectable } from '@nestjs/common';
import { InvalidParametersError } from '../common/errors.js';
import { instant, rejectUnknown, single, type RawQuery } from '../common/query-params.js';
import { ActiveRuleSet } from '../rules/active-rule-set.service.js';
import { STATS_STORE, type StatsStore } from '../stats/stats-store.js';
import { parseAttackEntry, TACTICS } from './attack.js';

export interface TechniqueCoverage {
  id: string;
  rules: string[];
  hits: number;
}

export interface TacticCoverage {
  id: string;
  name: string;
  techniques: TechniqueCoverage[];
}

export interface CoverageAnswer {
  since: string | null;
  until: string | null;
  tactics: TacticCoverage[];
  /** Techniques reported without a tactic. */
  unassigned: TechniqueCoverage[];
}

export interface CoverageQuery {
  since?: number;
  until?: number;
  format: 'json' | 'navigator';
}

const ATTACK_REPORT = /^mitre\s*att&?ck$/i;

export function parseCoverageQuery(query: RawQuery): CoverageQuery {
  rejectUnknown(query, ['since', 'until', 'format']);
  const format = single(query, 'format') ?? 'json';
  if (format !== 'json' && format !== 'navigator') {
    throw new InvalidParametersError([{ parameter: 'format', message: 'format must be json or navigator' }]);
  }
  const since = instant(query, 'since');
  const until = instant(query, 'until');
  if (since !== undefined && until !== undefined && since >= until) {
    throw new InvalidParametersError([{ parameter: 'until', message: 'until must be later than since' }]);
  }
  return { since, until, format };
}

@Injectable()
export class CoverageService {
  constructor(
    private readonly activeRules: ActiveRuleSet,
    @Inject(STATS_STORE) private readonly store: StatsStore,
  ) {}

  async coverage(query: CoverageQuery): Promise<CoverageAnswer> {
    const hitsByRule = await this.store.read((counts) =>
      counts.hitsPerRule({ since: query.since, until: query.until }),
    );
    const byTactic = new Map<string, Map<string, TechniqueCoverage>>();
    const unassigned = new Map<string, TechniqueCoverage>();
    for (const rule of this.activeRules.current.rules) {
      const { ruleId, reports } = rule.definition;
      for (const [framework, entries] of Object.entries(reports)) {
        if (!ATTACK_REPORT.test(framework.trim())) continue;
        for (const entry of entries) {
          const mapping = parseAttackEntry(entry);
          if (!mapping) continue;
          let techniques = unassigned;
          if (mapping.tactic) {
            techniques = byTactic.get(mapping.tactic) ?? new Map<string, TechniqueCoverage>();
            byTactic.set(mapping.tactic, techniques);
          }
          const technique = techniques.get(mapping.technique) ?? { id: mapping.technique, rules: [], hits: 0 };
          if (!technique.rules.includes(ruleId)) {
            technique.rules.push(ruleId);
            technique.hits += hitsByRule.get(ruleId) ?? 0;
          }
          techniques.set(mapping.technique, technique);
        }
      }
    }
    const sortTechniques = (map: Map<string, TechniqueCoverage>) =>
      [...map.values()].map((technique) => ({ ...technique, rules: technique.rules.sort() })).sort((a, b) => (a.id < b.id ? -1 : 1));
    const known = TACTICS.filter((tactic) => byTactic.has(tactic.id)).map((tactic) => ({
      id: tactic.id,
      name: tactic.name,
      techniques: sortTechniques(byTactic.get(tactic.id) ?? new Map<string, TechniqueCoverage>()),
    }));
    const other = [...byTactic.keys()]
      .filter((id) => !TACTICS.some((tactic) => tactic.id === id))
      .sort()
      .map((id) => ({ id, name: id, techniques: sortTechniques(byTactic.get(id) ?? new Map<string, TechniqueCoverage>()) }));
    return {
      since: query.since === undefined ? null : new Date(query.since).toISOString(),
      until: query.until === undefined ? null : new Date(query.until).toISOString(),
      tactics: [...known, ...other],
      unassigned: sortTechniques(unassigned),
    };
  }

  /** The same coverage as an ATT&CK Navigator layer (score: hits in the range). */
  navigatorLayer(coverage: CoverageAnswer): Record<string, unknown> {
    const techniques = coverage.tactics.flatMap((tactic) => {
      const shortName = TACTICS.find((known) => known.id === tactic.id)?.shortName;
      return tactic.techniques.map((technique) => ({
        techniqueID: technique.id,
        ...(shortName ? { tactic: shortName } : {}),
        score: technique.hits,
        comment: `Rules: ${technique.rules.join(', ')}`,
        enabled: true,
      }));
    });
    const maxScore = Math.max(1, ...techniques.map((technique) => technique.score));
    return {
      name: 'Tripline coverage',
      versions: { layer: '4.5', navigator: '5.1.0' },
      domain: 'enterprise-attack',
      description: `Techniques reported by enabled rules; score = hits${coverage.since ? ` since ${coverage.since}` : ''}${coverage.until ? ` until ${coverage.until}` : ''}`,
      sorting: 3,
      hideDisabled: false,
      techniques,
      gradient: { colors: ['#e8f5e9', '#1b5e20'], minValue: 0, maxValue: maxScore },
      legendItems: [],
      showTacticRowBackground: false,
      selectTechniquesAcrossTactics: true,
      selectSubtechniquesWithParent: false,
    };
  }
}
