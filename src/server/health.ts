import { Router } from 'express';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  /** Resolves true when the dependency answers; never rejects for "down". */
  check(): Promise<boolean>;
}

export interface HealthOptions {
  /** Dependencies reported on /readyz; one being down does not make the gateway unready. */
  checks: ReadinessCheck[];
  /** True while starting or draining: the only times /readyz answers 503. */
  isUnavailable(): boolean;
  /** Redis's state in multi-instance mode; down never makes the gateway unready. @default 'off' */
  redis?: () => 'ok' | 'down';
}

/**
 * `/healthz`: the process is alive (no dependency checks, so a slow upstream never
 * gets a healthy process restarted). `/readyz`: 200 whenever the gateway can serve,
 * also while upstream is down (a load balancer must not pull every instance for a
 * shared outage), with each dependency's state; 503 only while starting or draining.
 */
export function createHealthRouter(options: HealthOptions): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      options.checks.map(
        async ({ name, check }) => [name, (await check().catch(() => false)) ? 'ok' : 'down'] as const,
      ),
    );
    const checks = { ...Object.fromEntries(results), redis: options.redis?.() ?? 'off' };
    if (options.isUnavailable()) res.status(503).json({ status: 'unavailable', checks });
    else res.json({ status: 'ok', checks });
  });
  return router;
}

/** `/metrics` in Prometheus text format, on the main server or its own (METRICS_PORT). */
export function createMetricsRouter(registry: Registry): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}
