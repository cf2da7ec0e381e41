import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Tracing off loads no OpenTelemetry SDK or instrumentation: only src/app/telemetry.ts
 * loads `@opentelemetry/*`, and only dynamically; and with tracing on, the SDK starts
 * before express, graphql and pino load, because main.ts imports nothing that loads
 * them before it has started (test/integration/tracing.test.ts checks both at run time).
 */
const src = fileURLToPath(new URL('../../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

const read = (path: string) => readFileSync(join(src, path), 'utf8');

/** Static imports that load a module at run time (`import type X` and `import { type X }`-only are erased). */
function valueImports(text: string): string[] {
  const file = ts.createSourceFile('x.ts', text, ts.ScriptTarget.Latest);
  return file.statements.flatMap((statement) => {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const bindings = clause?.namedBindings;
      const isErased =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (!clause.name &&
            bindings !== undefined &&
            ts.isNamedImports(bindings) &&
            bindings.elements.every((element) => element.isTypeOnly)));
      return isErased ? [] : [(statement.moduleSpecifier as ts.StringLiteral).text];
    }
    if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && !statement.isTypeOnly)
      return [(statement.moduleSpecifier as ts.StringLiteral).text];
    return [];
  });
}

describe('OpenTelemetry is loaded only when configured', () => {
  it('no module of src/ imports @opentelemetry/* statically', () => {
    const found = files(src).flatMap((path) =>
      valueImports(readFileSync(path, 'utf8'))
        .filter((specifier) => specifier.startsWith('@opentelemetry/'))
        .map((specifier) => `${relative(src, path)} -> ${specifier}`),
    );
    expect(found).toEqual([]);
  });

  it('only src/app/telemetry.ts names @opentelemetry/* at all (dynamic imports, a type import)', () => {
    const naming = files(src)
      .filter((path) => readFileSync(path, 'utf8').includes("'@opentelemetry/"))
      .map((path) => relative(src, path));
    expect(naming).toEqual(['app/telemetry.ts']);
  });

  it('main.ts loads only the config and telemetry before telemetry starts; the gateway and the logger come after', () => {
    expect(valueImports(read('main.ts'))).toEqual(['reflect-metadata', './app/telemetry.js', './config.js']);
    expect(valueImports(read('app/telemetry.ts'))).toEqual(['node:module', '../tracing.js']);
    expect(valueImports(read('tracing.ts'))).toEqual([]);
    expect(read('main.ts')).toMatch(/await startTelemetry\(\)[\s\S]*import\('\.\/app\/gateway\.js'\)/);
  });
});
