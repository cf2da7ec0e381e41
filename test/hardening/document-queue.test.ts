import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { UploadActivityDocument } from '../../schema/generated/graphql.js';
import { HS_SECRET, hsKey, sign } from '../helpers/jwt.js';
import { ENTITY, startStack } from '../helpers/stack.js';
import { connect } from '../helpers/ws-client.js';

const jwtEnv = { AUTH_MODE: 'jwt', CLEARTAX_AUTH_TOKEN: 'server-token', AUTH_JWT_SECRET: HS_SECRET };
const bearer = async (sub: string) => `Bearer ${await sign({ sub, taxable_entity_ids: [ENTITY] }, hsKey(), 'HS256')}`;

/** A valid document under every limit that still costs real validation work: a chain of `n` fragments. */
const chain = (name: string, n: number) =>
  `query ${name} { ...${name}F0 } ` +
  Array.from(
    { length: n },
    (_, j) => `fragment ${name}F${j} on Query { ${j + 1 < n ? `...${name}F${j + 1}` : '__typename'} }`,
  ).join(' ');

/** POSTs on a connection of its own (fetch would queue the flood behind one keep-alive connection). */
function post(
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; json: { errors?: unknown[] } }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += String(chunk)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { errors?: unknown[] } }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

type Answer = { ok: boolean; errors?: { message: string; extensions?: { code?: string } }[] };
function run(client: ReturnType<typeof connect>, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  return new Promise((resolve) => {
    let ok = false;
    client.subscribe(
      { query, ...(variables ? { variables } : {}) },
      {
        next: (result) => (ok = !result.errors),
        error: (errors) => resolve({ ok: false, errors: errors as Answer['errors'] }),
        complete: () => resolve({ ok }),
      },
    );
  });
}

describe('new documents are parsed and validated one at a time, round robin between callers', () => {
  it("serves a victim's new document ahead of an attacker's backlog, and its cached one without queueing", async () => {
    const { app, simulator } = await startStack({ ...jwtEnv, MAX_PENDING_DOCUMENTS: '100' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false });
    const attacker = connect(app.url, { connectionParams: { authorization: await bearer('attacker') } });
    const victim = connect(app.url, { connectionParams: { authorization: await bearer('victim') } });
    const cached = print(UploadActivityDocument);
    expect(await run(victim, cached, { taxableEntityId: ENTITY, activityId: a.activityId })).toEqual({ ok: true });
    await run(attacker, '{ __typename }');

    const order: string[] = [];
    let firstAnswered!: () => void;
    const started = new Promise<void>((resolve) => (firstAnswered = resolve));
    const flood = Array.from({ length: 60 }, (_, i) =>
      run(attacker, chain(`Flood${i}`, 45)).then((answer) => {
        order.push(`attacker-${i}`);
        firstAnswered();
        return answer;
      }),
    );
    // Once the first is answered, the rest wait in the attacker's queue.
    await started;
    const fresh = run(victim, chain('Victim', 3)).then((answer) => (order.push('victim-new'), answer));
    const again = run(victim, cached, { taxableEntityId: ENTITY, activityId: a.activityId }).then(
      (answer) => (order.push('victim-cached'), answer),
    );
    const answers = await Promise.all(flood);
    expect(await fresh).toEqual({ ok: true });
    expect(await again).toEqual({ ok: true });
    expect(answers.every((answer) => answer.ok)).toBe(true);
    // FIFO would put the new one behind all 60; round robin lets a few of the attacker's go first
    // (those done while the victim's message travels). The cached one never queues.
    expect(order.indexOf('victim-new')).toBeLessThan(20);
    expect(order.indexOf('victim-cached')).toBeLessThan(20);
  });

  it('answers RATE_LIMITED past MAX_PENDING_DOCUMENTS waiting for one caller, and serves the same document sent 100 times at once as one', async () => {
    const { app } = await startStack({ ...jwtEnv, MAX_PENDING_DOCUMENTS: '5' });
    const client = connect(app.url, { connectionParams: { authorization: await bearer('flood') } });
    await run(client, '{ __typename }');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => run(client, chain(`Burst${i}`, 10))));
    const limited = answers.filter((answer) => answer.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(0);
    expect(answers.filter((answer) => answer.ok).length).toBeGreaterThanOrEqual(5);
    // A board's 100 subscriptions share one document: it waits for one turn, not 100.
    const same = chain('Same', 10);
    const board = connect(app.url, { connectionParams: { authorization: await bearer('board') } });
    const many = await Promise.all(Array.from({ length: 100 }, () => run(board, same)));
    expect(many.every((answer) => answer.ok)).toBe(true);
  });

  it('refuses a document with more than MAX_FRAGMENTS fragments before validating it, on HTTP and WebSocket', async () => {
    const { app, raw } = await startStack({ ...jwtEnv, MAX_FRAGMENTS: '10' });
    const client = connect(app.url, { connectionParams: { authorization: await bearer('user') } });
    const over = await run(client, chain('Over', 11));
    expect(over.errors).toEqual([
      expect.objectContaining({
        message: 'A document may define at most 10 fragments, got 11',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
    const http = await raw({ query: chain('Over', 11) }, { authorization: await bearer('user') });
    expect(http.status).toBe(400);
    expect(http.json.errors).toEqual([
      expect.objectContaining({
        message: 'A document may define at most 10 fragments, got 11',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
    expect(await run(client, chain('Under', 10))).toEqual({ ok: true });
  });

  it("queues HTTP documents in the same queue: behind their own caller's backlog, ahead of another's", async () => {
    const { app } = await startStack({ ...jwtEnv, MAX_PENDING_DOCUMENTS: '100' });
    const attacker = await bearer('attacker');
    const victim = await bearer('victim');
    const ws = connect(app.url, { connectionParams: { authorization: attacker } });
    await run(ws, '{ __typename }');
    const order: string[] = [];
    // A WebSocket burst fills the attacker's queue at once (HTTP requests arrive one by one).
    let firstAnswered!: () => void;
    const started = new Promise<void>((resolve) => (firstAnswered = resolve));
    const flood = Array.from({ length: 60 }, (_, i) =>
      run(ws, chain(`Flood${i}`, 45)).then(() => {
        order.push(`ws-${i}`);
        firstAnswered();
      }),
    );
    // Once the first is answered, the rest wait in the attacker's queue.
    await started;
    const own = post(app.url, { query: chain('AttackerHttp', 3) }, { authorization: attacker }).then(
      (r) => (order.push('attacker-http'), r),
    );
    const other = post(app.url, { query: chain('VictimHttp', 3) }, { authorization: victim }).then(
      (r) => (order.push('victim-http'), r),
    );
    const [mine, theirs] = await Promise.all([own, other, ...flood]);
    expect(mine.status).toBe(200);
    expect(theirs.status).toBe(200);
    // Round robin: the victim's turn comes next; the attacker's own HTTP document waits behind its backlog.
    expect(order.indexOf('victim-http')).toBeLessThan(30);
    expect(order.indexOf('attacker-http')).toBeGreaterThan(40);
    expect(order.indexOf('attacker-http')).toBeGreaterThan(order.indexOf('victim-http') + 10);
  });
});
