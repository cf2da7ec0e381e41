import { describe, expect, it } from 'vitest';
import { UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { ENTITY, startStack } from '../helpers/stack.js';
import { connect, record } from '../helpers/ws-client.js';

async function readiness(url: string) {
  const response = await fetch(url.replace(/\/graphql$/, '/readyz'));
  return {
    status: response.status,
    body: (await response.json()) as { status: string; checks: { upstream: string; redis: string } },
  };
}

describe('/readyz during an upstream outage', () => {
  it('says upstream is down while reads fail with 5xx (still 200), and ok again once they succeed', async () => {
    const { app, simulator, logs } = await startStack({
      LOG_LEVEL: 'warn',
      POLL_INTERVAL_MS: '20',
      POLL_MAX_INTERVAL_MS: '50',
    });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3, isAuto: false });
    const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityId: a.activityId,
    });
    await expect.poll(() => sub.events.length).toBe(1);
    expect(await readiness(app.url)).toEqual({
      status: 200,
      body: { status: 'ok', checks: { upstream: 'ok', redis: 'off' } },
    });

    // Every status read answers 503; the root path still answers, as a real ClearTax front would.
    simulator.addFault({ status: 503, times: Infinity });
    await expect.poll(() => logs.some((line) => line.msg === 'upstream became unreachable')).toBe(true);
    await expect.poll(async () => (await readiness(app.url)).body.checks.upstream).toBe('down');
    expect((await readiness(app.url)).status).toBe(200);

    simulator.clearFaults();
    await expect.poll(async () => (await readiness(app.url)).body.checks.upstream, { timeout: 5_000 }).toBe('ok');
  });
});
