import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { collectRuleFiles } from '../engine/pack.js';
import { UsageError, type CommandOptions } from './command-options.js';

interface FileSpan {
  file: string;
  /** First line of the file in the combined stream (1-based). */
  firstLine: number;
}

/** All files as one multi-document stream, and where each file starts in it. */
async function combine(files: readonly string[]): Promise<{ text: string; spans: FileSpan[] }> {
  let text = '';
  let line = 1;
  const spans: FileSpan[] = [];
  for (const file of files) {
    let content = await readFile(file, 'utf8');
    if (!content.endsWith('\n')) content += '\n';
    if (text !== '') {
      text += '---\n';
      line += 1;
    }
    spans.push({ file, firstLine: line });
    text += content;
    line += content.split('\n').length - 1;
  }
  return { text, spans };
}

function locate(spans: readonly FileSpan[], line: number | undefined): string {
  if (line === undefined) return '';
  const span = [...spans].reverse().find((candidate) => candidate.firstLine <= line);
  return span ? `${relative(process.cwd(), span.file)}:${line - span.firstLine + 1}` : `line ${line}`;
}

interface Problem {
  detail?: string;
  errors?: { message: string; line?: number; column?: number; key?: string }[];
  rules?: { ruleId: string; failedTests?: { name: string; failures: string[] }[] }[];
}

interface Report {
  dryRun: boolean;
  created: number;
  updated: number;
  unchanged: number;
  rules: { ruleId: string; action: string; version: number; enabled: boolean }[];
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
  const { text, spans } = await combine(files);
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
      headers: { 'content-type': 'application/yaml', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: text,
    },
  );
  const answer: unknown = await response.json().catch(() => ({}));
  if (!response.ok) {
    const body = answer as Problem;
    process.stderr.write(`push refused (${response.status}): ${body.detail ?? response.statusText}\n`);
    for (const error of body.errors ?? []) {
      process.stderr.write(
        `  ${locate(spans, error.line)}: ${error.message}${error.key ? ` [${error.key}]` : ''}\n`,
      );
    }
    for (const rule of body.rules ?? []) {
      for (const test of rule.failedTests ?? [])
        process.stderr.write(`  ${rule.ruleId} › ${test.name}: ${test.failures.join('; ')}\n`);
    }
    return 1;
  }
  const body = answer as Report;
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
