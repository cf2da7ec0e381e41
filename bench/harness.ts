import { parseArgs } from 'node:util';
import { startGateway as startStack } from '../src/app/gateway.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { mulberry32, type SimulatorOptions } from '../src/simulator/server.js';

export { SEED_ENTITY_ID as ENTITY } from '../src/simulator/server.js';

/** Simulator plus gateway on 127.0.0.1 free ports, in this process, started as `npm start` does. */
export async function startGateway(env: Record<string, string>, simulatorOptions: Partial<SimulatorOptions> = {}) {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    // Clients send their own token (passthrough). All of them are one caller, so the rate
    // limit is set out of reach: it is still consulted on every operation, and so measured.
    AUTH_MODE: 'passthrough',
    RATE_LIMIT_PER_MINUTE: '1000000000',
    SIMULATOR_PORT: '0',
    ...env,
  });
  const gateway = await startStack(config, {
    logger: createLogger('silent'),
    simulator: { stepMs: 0, shouldSeed: false, ...simulatorOptions },
  });
  return { app: gateway.app, simulator: gateway.simulator!, config, stop: () => gateway.stop() };
}

/** `--name value` options with numeric defaults, from `args` (default: the command line). */
export function numericArgs<T extends Record<string, number>>(defaults: T, args?: string[]): T {
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(Object.keys(defaults).map((k) => [k, { type: 'string' as const }])),
    strict: true,
  });
  const out: Record<string, number> = { ...defaults };
  for (const [k, v] of Object.entries(values)) {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} must be a non-negative number, got ${String(v)}`);
    out[k] = n;
  }
  return out as T;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A markdown table, ready to paste into the README. */
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A small deterministic PRNG (mulberry32) so runs are comparable. */
export const random = mulberry32;
