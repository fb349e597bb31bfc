// MITRE ATT&CK enterprise tactics, by id: their names and the short names the ATT&CK Navigator uses.
export interface Tactic {
  id: string;
  name: string;
  shortName: string;
}

export const TACTICS: readonly Tactic[] = [
  { id: 'TA0043', name: 'Reconnaissance', shortName: 'reconnaissance' },
  { id: 'TA0042', name: 'Resource Development', shortName: 'resource-development' },
  { id: 'TA0001', name: 'Initial Access', shortName: 'initial-access' },
  { id: 'TA0002', name: 'Execution', shortName: 'execution' },
  { id: 'TA0003', name: 'Persistence', shortName: 'persistence' },
  { id: 'TA0004', name: 'Privilege Escalation', shortName: 'privilege-escalation' },
  { id: 'TA0005', name: 'Defense Evasion', shortName: 'defense-evasion' },
  { id: 'TA0006', name: 'Credential Access', shortName: 'credential-access' },
  { id: 'TA0007', name: 'Discovery', shortName: 'discovery' },
  { id: 'TA0008', name: 'Lateral Movement', shortName: 'lateral-movement' },
  { id: 'TA0009', name: 'Collection', shortName: 'collection' },
  { id: 'TA0011', name: 'Command and Control', shortName: 'command-and-control' },
  { id: 'TA0010', name: 'Exfiltration', shortName: 'exfiltration' },
  { id: 'TA0040', name: 'Impact', shortName: 'impact' },
];

export interface AttackMapping {
  tactic: string | undefined;
  technique: string;
}

/** Reads a Panther `Reports: {MITRE ATT&CK: [...]}` entry: `TA0005:T1599`, `T1599.001`, or `TA0005`. */
export function parseAttackEntry(entry: string): AttackMapping | undefined {
  const match = /^\s*(?:(TA\d{4})\s*:\s*)?(T\d{4}(?:\.\d{3})?)\s*$/i.exec(entry);
  if (!match?.[2]) return undefined;
  return { tactic: match[1]?.toUpperCase(), technique: match[2].toUpperCase() };
}
