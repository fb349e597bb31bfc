import { readdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeTarGz, type ArchiveFile } from '../common/archives.js';
import { collectRuleFiles } from '../engine/pack.js';
import { UsageError, type CommandOptions } from './command-options.js';

/** The files sent: each by the name it has in the archive, and the name it is shown by. */
interface TreeEntry {
  entry: string;
  shown: string;
}

/**
 * The rule files and the Python beside them (every .py in their folders: a rule's Filename, a helper's
 * body) as archive entries, named relative to the working folder.
 */
async function treeOf(files: readonly string[]): Promise<{ archive: ArchiveFile[]; entries: TreeEntry[] }> {
  const wanted = new Set(files.map((file) => resolve(file)));
  for (const folder of new Set(files.map((file) => dirname(resolve(file))))) {
    for (const name of await readdir(folder)) if (name.endsWith('.py')) wanted.add(join(folder, name));
  }
  const archive: ArchiveFile[] = [];
  const entries: TreeEntry[] = [];
  for (const file of [...wanted].sort()) {
    const shown = relative(process.cwd(), file);
    // Outside the working folder: named by its absolute path, without the leading slash.
    const entry =
      shown.startsWith('..') || isAbsolute(shown) ? file.replace(/^\/+/, '') : shown.split(sep).join('/');
    archive.push({ path: entry, data: await readFile(file) });
    entries.push({ entry, shown });
  }
  return { archive, entries };
}

function locate(entries: readonly TreeEntry[], file: string | undefined, line: number | undefined): string {
  const shown = entries.find((candidate) => candidate.entry === file)?.shown ?? file ?? '(pack)';
  return line === undefined ? shown : `${shown}:${line}`;
}

interface Problem {
  detail?: string;
  errors?: { message: string; file?: string; line?: number; column?: number; key?: string }[];
  rules?: { ruleId: string; failedTests?: { name: string; failures: string[] }[] }[];
}

interface Report {
  dryRun: boolean;
  created: number;
  updated: number;
  unchanged: number;
  rules: { ruleId: string; action: string; version: number; enabled: boolean }[];
  library?: { kind: string; id: string; action: string; version: number }[];
  warnings?: { message: string; file?: string; line?: number }[];
}

/**
 * `tripline push`: sends rule files to a server's import endpoint as one pack (all or nothing) and
 * prints its report; detection-as-code from a CI pipeline.
 */
export async function pushCommand(paths: string[], options: CommandOptions): Promise<number> {
  const server = options.server;
  if (server === undefined) throw new UsageError('push needs --server URL');
  if (paths.length === 0) throw new UsageError('push needs at least one rule file or directory');
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new UsageError(`--server ${JSON.stringify(server)} is not a URL`);
  }
  const files = await collectRuleFiles(paths);
  if (files.length === 0) throw new UsageError('no rule files (.yml, .yaml, .json) found');
  // The tree as it is, Python beside YAML: the server reads it as a Panther repository.
  const { archive, entries } = await treeOf(files);
  const query = new URLSearchParams({
    dryRun: String(options['dry-run']),
    ignoreExtraKeys: String(options['ignore-extra-keys']),
    storeDisabled: String(options['store-disabled']),
  });
  const key = options.key ?? process.env.TRIPLINE_API_KEY;
  const response = await fetch(
    new URL(`v1/rules/import?${query.toString()}`, base.href.endsWith('/') ? base : `${base.href}/`),
    {
      method: 'POST',
      headers: { 'content-type': 'application/gzip', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: writeTarGz(archive),
    },
  );
  const answer: unknown = await response.json().catch(() => ({}));
  if (!response.ok) {
    const body = answer as Problem;
    process.stderr.write(`push refused (${response.status}): ${body.detail ?? response.statusText}\n`);
    for (const error of body.errors ?? []) {
      process.stderr.write(
        `  ${locate(entries, error.file, error.line)}: ${error.message}${error.key ? ` [${error.key}]` : ''}\n`,
      );
    }
    for (const rule of body.rules ?? []) {
      for (const test of rule.failedTests ?? [])
        process.stderr.write(`  ${rule.ruleId} › ${test.name}: ${test.failures.join('; ')}\n`);
    }
    return 1;
  }
  const body = answer as Report;
  for (const warning of body.warnings ?? [])
    process.stderr.write(`warning: ${locate(entries, warning.file, warning.line)}: ${warning.message}\n`);
  for (const item of body.library ?? []) {
    const kind = item.kind === 'global_helper' ? 'global helper' : 'data model';
    process.stdout.write(`${item.action.padEnd(9)} ${kind} ${item.id} v${item.version}\n`);
  }
  for (const rule of body.rules) {
    process.stdout.write(
      `${rule.action.padEnd(9)} ${rule.ruleId} v${rule.version}${rule.enabled ? '' : ' (disabled)'}\n`,
    );
  }
  process.stdout.write(
    `${body.dryRun ? 'dry run: nothing changed; would be ' : ''}${body.created} created, ${body.updated} updated, ${body.unchanged} unchanged (${files.length} files)\n`,
  );
  return 0;
}
