// SQL lives in src/storage: the repositories there implement the stores the features ask for by token.
// No other file in src/ imports TypeORM (even for a type) or handles an EntityManager, so that a query
// cannot creep back into a service. (The migrations, outside src/, are SQL by nature.)
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const STORAGE = dirname(fileURLToPath(import.meta.url));
const SRC = dirname(STORAGE);

/** The TypeORM packages: TypeORM itself, its subpaths, and Nest's binding. */
const TYPEORM = /^(typeorm|@nestjs\/typeorm)(\/|$)/;

function filesOutsideStorage(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return path === STORAGE ? [] : filesOutsideStorage(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a file names: static imports and re-exports (type-only too), and dynamic import(). */
function importedModules(file: string, source: string): string[] {
  const parsed = ts.createSourceFile(file, source, ts.ScriptTarget.ES2023, true, ts.ScriptKind.TS);
  const modules: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      modules.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      modules.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) modules.push(literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(parsed);
  return modules;
}

/** What in a file crosses the boundary: each TypeORM import, and any mention of the EntityManager. */
function boundaryCrossings(file: string, source: string): string[] {
  const crossings = importedModules(file, source)
    .filter((name) => TYPEORM.test(name))
    .map((name) => `imports ${name}`);
  if (/\bEntityManager\b/.test(source)) crossings.push('mentions EntityManager');
  return crossings;
}

describe('the SQL boundary', () => {
  it('keeps TypeORM and the EntityManager inside src/storage', () => {
    const crossings = filesOutsideStorage(SRC).flatMap((file) =>
      boundaryCrossings(file, readFileSync(file, 'utf8')).map((what) => `${relative(SRC, file)} ${what}`),
    );
    expect(crossings).toEqual([]);
  });

  it('finds every way of importing TypeORM, and the EntityManager however it is named', () => {
    const source = [
      "import { IsNull } from 'typeorm';",
      "import type { DataSource } from 'typeorm';",
      "import { InjectRepository } from '@nestjs/typeorm';",
      "export { Repository } from 'typeorm/repository/Repository.js';",
      "const later = () => import('typeorm');",
      "type Driver = import('typeorm').Driver;",
      "import { readFile } from 'node:fs';",
      "import { typeormLike } from './typeorm-like.js';",
      'function run(work: (manager: EntityManager) => void) {}',
    ].join('\n');
    expect(boundaryCrossings('/src/x.ts', source)).toEqual([
      'imports typeorm',
      'imports typeorm',
      'imports @nestjs/typeorm',
      'imports typeorm/repository/Repository.js',
      'imports typeorm',
      'imports typeorm',
      'mentions EntityManager',
    ]);
    expect(boundaryCrossings('/src/y.ts', "import { readFile } from 'node:fs';")).toEqual([]);
  });
});
