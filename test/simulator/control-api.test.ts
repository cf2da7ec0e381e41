import { describe, expect, it, onTestFinished } from 'vitest';
import { createSimulator } from '../../src/simulator/server.js';

describe('simulator HTTP control API (for demos and out-of-process tests)', () => {
  it('creates, scripts and faults activities over HTTP', async () => {
    const simulator = createSimulator({ stepMs: 0 });
    const url = await simulator.start();
    onTestFinished(() => simulator.stop());
    const entity = '11111111-2222-4333-8444-555555555555';

    const created = await fetch(`${url}/__simulator/activities`, {
      method: 'POST',
      body: JSON.stringify({ taxableEntityId: entity, willAbort: true }),
    });
    expect(created.status).toBe(201);
    const { activityId } = (await created.json()) as { activityId: string };
    const statusUrl = `${url}/v0.2/taxable_entities/${entity}/upload_activity/${activityId}/status`;
    const headers = { 'X-Cleartax-Auth-Token': 't' };
    expect(await (await fetch(statusUrl, { headers })).json()).toEqual({
      activityId,
      status: 'INIT',
      errorMessage: null,
      queuedCount: 0,
    });

    const scripted = await fetch(`${url}/__simulator/activities/${entity}/${activityId}`, {
      method: 'PUT',
      body: JSON.stringify({ status: 'QUEUED', queuedCount: 9 }),
    });
    expect(scripted.status).toBe(200);
    expect(await (await fetch(statusUrl, { headers })).json()).toMatchObject({ status: 'QUEUED', queuedCount: 9 });

    await fetch(`${url}/__simulator/faults`, { method: 'POST', body: JSON.stringify({ status: 503 }) });
    expect((await fetch(statusUrl, { headers })).status).toBe(503);
    expect((await fetch(statusUrl, { headers })).status).toBe(200);

    expect((await fetch(statusUrl)).status).toBe(401);
    const stats = (await (await fetch(`${url}/__simulator/stats`)).json()) as { requests: number };
    expect(stats.requests).toBe(5);

    const bad = await fetch(`${url}/__simulator/activities`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
  });

  it('answers unknown activities and bad parameters with the documented 404 body', async () => {
    const simulator = createSimulator({ stepMs: 0 });
    const url = await simulator.start();
    onTestFinished(() => simulator.stop());
    const response = await fetch(`${url}/v0.2/taxable_entities/nope/upload_activity/also-nope/status`, {
      headers: { 'X-Cleartax-Auth-Token': 't' },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      errors: {
        err_1: { code: '404', message: 'No activity found for id also-nope', error_group_code: 0, error_id: 0 },
      },
    });
  });

  it('moves activities on its clock', async () => {
    const simulator = createSimulator({ stepMs: 5 });
    await simulator.start();
    onTestFinished(() => simulator.stop());
    const a = simulator.createActivity({ queueLength: 1 });
    await expect.poll(() => a.status, { timeout: 2000, interval: 5 }).toBe('PROCESSED');
  });
});
