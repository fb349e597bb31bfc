// The built-in pack's files read and parsed: plain data, so that a worker thread can do it while the
// server is still loading (see builtin-pack.reading.ts) and hand it over. Nothing is compiled here.
import { readFile } from 'node:fs/promises';
import { collectRuleFiles } from '../engine/pack.js';
import { parseRuleSources, type ParsedRule, type SourceProblems } from './rule-source.js';

/** Files read at a time: enough to keep the disk busy, few enough to stay far from the open-file limit. */
const FILES_READ_TOGETHER = 64;

export interface ParsedPackFile {
  file: string;
  rules: ParsedRule[];
  problems: SourceProblems;
}

/** Every rule file under `directory`, in the pack's order, each parsed. */
export async function parsePackFiles(directory: string): Promise<ParsedPackFile[]> {
  const files = await collectRuleFiles([directory]);
  const parsed: ParsedPackFile[] = [];
  for (let start = 0; start < files.length; start += FILES_READ_TOGETHER) {
    const batch = files.slice(start, start + FILES_READ_TOGETHER);
    const texts = await Promise.all(batch.map((file) => readFile(file, 'utf8')));
    for (const [index, file] of batch.entries()) {
      const { rules, problems } = parseRuleSources(texts[index] as string, { ignoreExtraKeys: false, file });
      parsed.push({ file, rules, problems });
    }
  }
  return parsed;
}
