import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The house rules of src/ (README "Development"): imports flow one way, top to
 * bottom, and nothing imports in a circle.
 *   main/app (main.ts, app/, simulator/)  >  server/  >  features (upload-activity/, access/,
 *   cluster/, schema*.ts)  >  upstream/  >  leaves (domain/, config, errors, logger, metrics, token,
 *   pubsub, poll-lease, snapshot-store)
 * server/ is generic transport and imports no feature; domain/ imports nothing of ours outside itself.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const src = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

const rel = (path: string) => relative(src, path).split('\\').join('/');

function layerOf(path: string): number {
  const r = rel(path);
  if (r === 'main.ts' || r.startsWith('app/') || r.startsWith('simulator/')) return 4;
  if (r.startsWith('server/')) return 3;
  if (/^(upload-activity|access|cluster)\//.test(r) || /^schema[^/]*\.ts$/.test(r)) return 2;
  if (r.startsWith('upstream/')) return 1;
  return 0;
}

/** Our own modules a file imports (relative specifiers, `.js` written for `.ts`). */
function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:import|export)\s(?:[^'"]*?from\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] ?? m[2]!);
  return specifiers.map((spec) => {
    const base = resolve(dirname(path), spec);
    const found = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')].find(
      (c) => existsSync(c) && c.endsWith('.ts'),
    );
    if (!found) throw new Error(`${rel(path)} imports ${spec}, which does not resolve`);
    return found;
  });
}

const graph = new Map(files(src).map((f) => [f, importsOf(f)]));

describe('src/ layering', () => {
  it('has no import that runs up a layer, no feature in server/, nothing of ours in domain/', () => {
    const wrong: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        const [a, b] = [layerOf(from), layerOf(to)];
        if (b > a) wrong.push(`${rel(from)} -> ${rel(to)} (up a layer)`);
        if (a === 3 && b === 2) wrong.push(`${rel(from)} -> ${rel(to)} (server/ knows a feature)`);
        if (rel(from).startsWith('domain/') && !rel(to).startsWith('domain/'))
          wrong.push(`${rel(from)} -> ${rel(to)} (domain/ is a leaf)`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map(rel).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('sees the modules it guards (the walk is not empty)', () => {
    expect(graph.size).toBeGreaterThan(30);
    expect([...graph.keys()].map(rel)).toContain('upload-activity/status-watcher.ts');
  });
});
