import { describe, expect, it } from 'vitest';
import { print } from 'graphql';
import WebSocket from 'ws';
import {
  UploadActivitiesDocument,
  UploadActivityDocument,
  UploadActivityStatusChangedDocument,
} from '../../schema/generated/graphql.js';
import { ENTITY, TOKEN, startStack, type LogLine } from '../helpers/stack.js';
import { connect, record } from '../helpers/ws-client.js';

const MISSING = '0f0f0f0f-1111-4222-8333-444444444444';
const accessLines = (logs: LogLine[]) => logs.filter((line) => line.access === true);

describe('access log: one info line per completed HTTP operation and per ended subscription', () => {
  it('writes a successful query with its request id, operation, caller, id count, duration and outcome, and no token or variables', async () => {
    const { app, simulator, logs } = await startStack({ LOG_LEVEL: 'info' });
    const ids = [0, 1, 2].map(
      () => simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', isAuto: false }).activityId,
    );
    const response = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cleartax-auth-token': TOKEN, 'x-request-id': 'board-req-1' },
      body: JSON.stringify({
        query: print(UploadActivitiesDocument),
        variables: { taxableEntityId: ENTITY, activityIds: ids },
      }),
    });
    expect(response.status).toBe(200);
    await expect.poll(() => accessLines(logs).length).toBe(1);
    const [line] = accessLines(logs);
    expect(line).toMatchObject({
      level: 30,
      requestId: 'board-req-1',
      transport: 'http',
      operationName: 'UploadActivities',
      operationType: 'query',
      callerId: expect.any(String),
      ids: 3,
      durationMs: expect.any(Number),
      outcome: 'ok',
    });
    const text = JSON.stringify(line);
    expect(text).not.toContain(TOKEN);
    for (const id of ids) expect(text).not.toContain(id);
  });

  it('gives the codes a client saw as the outcome: a NOT_FOUND item, a refused body, a rate-limited operation', async () => {
    const { app, raw, query, logs } = await startStack({ LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '1' });
    await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: MISSING });
    await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: MISSING });
    const malformed = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'bad-body-1' },
      body: '{"query": oops',
    });
    expect(malformed.status).toBe(400);
    const invalid = await raw({ query: '{ nope }' }, { 'x-request-id': 'invalid-1' });
    expect(invalid.status).toBe(400);
    await expect.poll(() => accessLines(logs).length).toBe(4);
    expect(accessLines(logs).map((line) => line.outcome)).toEqual([
      'NOT_FOUND',
      'RATE_LIMITED',
      'BAD_REQUEST',
      'GRAPHQL_VALIDATION_FAILED',
    ]);
    expect(accessLines(logs)[2]).toMatchObject({ requestId: 'bad-body-1', transport: 'http' });
    expect(accessLines(logs)[3]).toMatchObject({ requestId: 'invalid-1', transport: 'http' });
  });

  it('writes an ended subscription with its WebSocket upgrade request id, and writes nothing with ACCESS_LOG=false', async () => {
    const { app, simulator, logs } = await startStack({
      LOG_LEVEL: 'info',
      POLL_INTERVAL_MS: '20',
      POLL_MAX_INTERVAL_MS: '40',
    });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING', isAuto: false });
    class WithRequestId extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { 'x-request-id': 'socket-req-7' } });
      }
    }
    const sub = record(connect(app.url, { webSocketImpl: WithRequestId }), UploadActivityStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityId: a.activityId,
    });
    await expect.poll(() => sub.events.length).toBe(1);
    expect(accessLines(logs)).toEqual([]);
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED' });
    await sub.done;
    await expect.poll(() => accessLines(logs).length).toBe(1);
    expect(accessLines(logs)[0]).toMatchObject({
      requestId: 'socket-req-7',
      transport: 'ws',
      operationName: 'UploadActivityStatusChanged',
      operationType: 'subscription',
      callerId: expect.any(String),
      ids: 1,
      outcome: 'ok',
    });

    const quiet = await startStack({ LOG_LEVEL: 'info', ACCESS_LOG: 'false' });
    await quiet.query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: MISSING });
    expect(
      quiet.logs.filter((line) => line.msg !== 'gateway listening' && !String(line.msg).includes('SIMULATED')),
    ).toEqual([]);
  });
});
