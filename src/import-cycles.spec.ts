// No module in src/ imports itself back at run time: in a cycle, one side reads the other's exports
// before they exist (a class that is `undefined` in a decorator, an `extends` that throws), depending on
// which file is loaded first. Type-only imports are erased and cannot form such a cycle.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

/** How tsc emits each file on its own: unused and type-only imports go, decorator metadata stays. */
const EMIT_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2023,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  isolatedModules: true,
};

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * The src/ files a file loads when it is loaded: the static imports and re-exports left in its emitted
 * JavaScript. A dynamic import() runs later, once both sides are loaded, so it is not one of them.
 */
function runtimeImports(file: string, source: string): string[] {
  const emitted = ts.transpileModule(source, { compilerOptions: EMIT_OPTIONS, fileName: file }).outputText;
  const parsed = ts.createSourceFile(file, emitted, ts.ScriptTarget.ES2023, false, ts.ScriptKind.JS);
  const imports: string[] = [];
  for (const statement of parsed.statements) {
    const specifier =
      ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)
        ? statement.moduleSpecifier
        : undefined;
    if (specifier === undefined || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.'))
      continue;
    imports.push(resolve(dirname(file), specifier.text.replace(/\.js$/, '.ts')));
  }
  return imports;
}

/** Every cycle once, as the files along it (the first repeated at the end), found by depth-first search. */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string): void => {
    seen.add(file);
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (!seen.has(next)) visit(next);
      else if (!done.has(next)) cycles.push([...path.slice(path.indexOf(next)), next]);
    }
    path.pop();
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) if (!seen.has(file)) visit(file);
  return cycles;
}

describe('runtime imports in src/', () => {
  it('form no cycle', () => {
    const graph = new Map(
      sourceFiles(SRC).map((file) => [file, runtimeImports(file, readFileSync(file, 'utf8'))]),
    );
    const cycles = importCycles(graph).map((cycle) => cycle.map((file) => relative(SRC, file)).join(' -> '));
    expect(cycles).toEqual([]);
  });

  it('count value imports and re-exports, not type-only ones', () => {
    const source = [
      "import type { A } from './a.js';",
      "import { type B } from './b.js';",
      "import { C } from './c.js';",
      "import { D } from './d.js';",
      "import './e.js';",
      "export { F } from './f.js';",
      "export type { G } from './g.js';",
      "import { readFile } from 'node:fs';",
      "const later = () => import('./h.js');",
      'export const used: B = new C(later, readFile);',
      'export const typed: D | undefined = undefined;',
    ].join('\n');
    expect(runtimeImports('/src/x.ts', source)).toEqual(['/src/c.ts', '/src/e.ts', '/src/f.ts']);
  });

  it('finds a cycle through several files, and a file importing itself', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(importCycles(graph)).toEqual([
      ['a', 'b', 'c', 'a'],
      ['e', 'e'],
    ]);
  });
});
