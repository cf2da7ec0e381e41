import { Router } from 'express';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  /** Resolves true when the dependency answers; never rejects for "not ready". */
  check(): Promise<boolean>;
}

/**
 * `/healthz`: the process is alive (no dependency checks, so a slow upstream never
 * gets a healthy process restarted). `/readyz`: every dependency answers.
 * `/metrics`: Prometheus text format.
 */
export function createHealthRouter(options: { readiness: ReadinessCheck[]; registry: Registry }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      options.readiness.map(async ({ name, check }) => [name, await check().catch(() => false)] as const),
    );
    const checks = Object.fromEntries(results.map(([name, ok]) => [name, ok ? 'ok' : 'unreachable']));
    const isReady = results.every(([, ok]) => ok);
    res.status(isReady ? 200 : 503).json({ status: isReady ? 'ready' : 'not ready', checks });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(options.registry.contentType).send(await options.registry.metrics());
  });
  return router;
}
