import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { onTestFinished } from 'vitest';
import { startGateway, type App } from '../../src/app/gateway.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/server.js';

export const ENTITY = '11111111-2222-4333-8444-555555555555';
export const TOKEN = 'test-token-abc';

export interface Stack {
  app: App;
  /** The embedded simulator (not there when `env` names a CLEARTAX_BASE_URL). */
  simulator: Simulator;
  config: Config;
  /** Every log line the gateway wrote, parsed (set LOG_LEVEL in `env` to see any). */
  logs: LogLine[];
  /** POSTs a typed document; returns the parsed GraphQL response. */
  query<TData, TVars>(
    document: TypedDocumentNode<TData, TVars>,
    variables: TVars,
    options?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<TData>>;
  /** POSTs a raw query string. */
  raw(body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: GraphQLResponse<unknown> }>;
}

export interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  [field: string]: unknown;
}

export interface GraphQLResponse<TData> {
  data?: TData | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; upstream?: unknown } }[];
}

/**
 * Starts a real gateway on 127.0.0.1 with a free port against its embedded
 * simulator (clock off and nothing seeded unless asked), the way `npm start` does,
 * and registers its disposal with the test. `env` overrides the contract's
 * variables as an operator would set them.
 */
export async function startStack(
  env: Record<string, string> = {},
  simulatorOptions: Partial<SimulatorOptions> = {},
): Promise<Stack> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    UPSTREAM_RETRY_BASE_MS: '1',
    UPSTREAM_TIMEOUT_MS: '1000',
    // Most suites are about a caller's own ClearTax token; the access suite sets each mode itself.
    AUTH_MODE: 'passthrough',
    SIMULATOR_PORT: '0',
    // Tests stop many gateways: no drain notice unless a test asks for one.
    SHUTDOWN_NOTICE_MS: '0',
    ...env,
  });
  const logs: LogLine[] = [];
  const gateway = await startGateway(config, {
    logger: createLogger(config.logLevel, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) }),
    simulator: { stepMs: 0, shouldSeed: false, ...simulatorOptions },
  });
  onTestFinished(() => gateway.stop());
  const { app } = gateway;
  const simulator = gateway.simulator!;

  async function raw(body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as GraphQLResponse<unknown> };
  }

  return {
    app,
    simulator,
    config,
    logs,
    async query(document, variables, options = {}) {
      const token = options.token === undefined ? TOKEN : options.token;
      const { json } = await raw(
        { query: print(document), variables },
        { ...(token === null ? {} : { 'X-Cleartax-Auth-Token': token }), ...options.headers },
      );
      return json as GraphQLResponse<never>;
    },
    raw,
  };
}
