import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';
import { connect } from '../helpers/ws-client.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A client team's operation, in its manifest as codegen writes one (`sha256:` keys). */
const CLIENT_QUERY =
  'query Status($e: UUID!, $a: UUID!) { uploadActivity(taxableEntityId: $e, activityId: $a) { status } }';
const CLIENT_SUBSCRIPTION =
  'subscription Live($e: UUID!, $a: UUID!) { uploadActivityStatusChanged(taxableEntityId: $e, activityId: $a) { status } }';
const UNLISTED =
  'query Other($e: UUID!, $a: UUID!) { uploadActivity(taxableEntityId: $e, activityId: $a) { rawStatus } }';

async function manifestFile(): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'trusted-')), 'persisted-documents.json');
  await writeFile(
    path,
    JSON.stringify({
      [`sha256:${sha256(CLIENT_QUERY)}`]: CLIENT_QUERY,
      [`sha256:${sha256(CLIENT_SUBSCRIPTION)}`]: CLIENT_SUBSCRIPTION,
    }),
  );
  return path;
}

/** The project's own manifest (codegen's), which the gateway always resolves. */
async function ownManifest(): Promise<Record<string, string>> {
  return JSON.parse(
    await readFile(new URL('../../schema/generated/persisted-documents.json', import.meta.url), 'utf8'),
  ) as Record<string, string>;
}

const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const auth = { 'X-Cleartax-Auth-Token': TOKEN };

describe('trusted documents (TRUSTED_DOCUMENTS)', () => {
  it('over HTTP runs listed documents by hash (APQ shape, documentId, GET) or by their exact text', async () => {
    const { app, raw, simulator } = await startStack({ TRUSTED_DOCUMENTS: await manifestFile() });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 1, isAuto: false });
    const variables = { e: ENTITY, a: a.activityId };
    const status = (response: { json: { data?: unknown } }) =>
      (response.json.data as { uploadActivity?: { status: string } } | undefined)?.uploadActivity?.status;

    expect(status(await raw({ extensions: apq(sha256(CLIENT_QUERY)), variables }, auth))).toBe('QUEUED');
    expect(status(await raw({ documentId: `sha256:${sha256(CLIENT_QUERY)}`, variables }, auth))).toBe('QUEUED');
    expect(status(await raw({ query: CLIENT_QUERY, variables }, auth))).toBe('QUEUED');
    const get = await fetch(
      `${app.url}?${new URLSearchParams({ extensions: JSON.stringify(apq(sha256(CLIENT_QUERY))), variables: JSON.stringify(variables) })}`,
      { headers: { ...auth, 'apollo-require-preflight': 'true' } },
    );
    expect(((await get.json()) as { data: { uploadActivity: { status: string } } }).data.uploadActivity.status).toBe(
      'QUEUED',
    );
    // The project's own operations resolve by hash in every mode (the board sends hashes only).
    const [ownHash, ownText] = Object.entries(await ownManifest()).find(([, text]) =>
      text.includes('query UploadActivity('),
    )!;
    const own = await raw(
      {
        extensions: apq(ownHash.replace('sha256:', '')),
        variables: { taxableEntityId: ENTITY, activityId: a.activityId },
      },
      auth,
    );
    expect(ownText).toContain('uploadActivity(');
    expect(status(own)).toBe('QUEUED');
  });

  it('over HTTP refuses an unknown hash (PERSISTED_QUERY_NOT_FOUND) and an unlisted text (OPERATION_NOT_TRUSTED) before any upstream call', async () => {
    const { raw, simulator } = await startStack({ TRUSTED_DOCUMENTS: await manifestFile() });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, isAuto: false });
    const variables = { e: ENTITY, a: a.activityId };
    const unknown = await raw({ extensions: apq(sha256('query { nope }')), variables }, auth);
    expect(unknown.status).toBe(400);
    expect(unknown.json.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const unlisted = await raw({ query: UNLISTED, variables }, auth);
    expect(unlisted.status).toBe(400);
    expect(unlisted.json.errors?.[0]?.extensions?.code).toBe('OPERATION_NOT_TRUSTED');
    // A listed hash with another text is the text that would run: refused too.
    const mismatched = await raw({ query: UNLISTED, extensions: apq(sha256(CLIENT_QUERY)), variables }, auth);
    expect(mismatched.json.errors?.[0]?.extensions?.code).toBe('OPERATION_NOT_TRUSTED');
    expect(simulator.stats.requests).toBe(0);
  });

  it('over graphql-ws runs a listed subscription sent as its hash with an empty query, and refuses the rest with no upstream call', async () => {
    const { app, simulator } = await startStack({
      TRUSTED_DOCUMENTS: await manifestFile(),
      POLL_INTERVAL_MS: '20',
      POLL_MAX_INTERVAL_MS: '80',
    });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false });
    const client = connect(app.url);
    const byHash = await new Promise<unknown[]>((resolve, reject) => {
      const events: unknown[] = [];
      client.subscribe(
        { query: '', variables: { e: ENTITY, a: a.activityId }, extensions: apq(sha256(CLIENT_SUBSCRIPTION)) },
        { next: (value) => events.push(value), error: reject, complete: () => resolve(events) },
      );
    });
    expect(byHash).toEqual([{ data: { uploadActivityStatusChanged: { status: 'PROCESSED' } } }]);
    const requestsSoFar = simulator.stats.requests;

    const refusalOf = (payload: { query: string; extensions?: Record<string, unknown> }) =>
      new Promise<unknown>((resolve) =>
        client.subscribe(
          { ...payload, variables: { e: ENTITY, a: a.activityId } },
          { next: () => undefined, error: resolve, complete: () => resolve('completed') },
        ),
      );
    expect(await refusalOf({ query: '', extensions: apq(sha256('subscription { nope }')) })).toEqual([
      expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }),
    ]);
    expect(await refusalOf({ query: UNLISTED.replace('query', 'subscription') })).toEqual([
      expect.objectContaining({ extensions: { code: 'OPERATION_NOT_TRUSTED' } }),
    ]);
    expect(simulator.stats.requests).toBe(requestsSoFar);
  });

  it('over the HTTP streams refuses an unlisted subscription as JSON before the stream starts', async () => {
    const { app, simulator } = await startStack({ TRUSTED_DOCUMENTS: await manifestFile() });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, isAuto: false });
    const body = JSON.stringify({
      query: UNLISTED.replace('query', 'subscription').replace('uploadActivity(', 'uploadActivityStatusChanged('),
      variables: { e: ENTITY, a: a.activityId },
    });
    for (const [url, accept] of [
      [app.url, 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json'],
      [`${app.url}/stream`, 'text/event-stream'],
    ] as const) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', accept },
        body,
      });
      expect(response.status).toBe(400);
      expect(
        ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code,
      ).toBe('OPERATION_NOT_TRUSTED');
    }
    expect(simulator.stats.requests).toBe(0);
  });

  it('unset: any text runs, and the project’s own hashes still resolve', async () => {
    const { raw, simulator } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 1, isAuto: false });
    const anyText = await raw({ query: UNLISTED, variables: { e: ENTITY, a: a.activityId } }, auth);
    expect(anyText.json.errors).toBeUndefined();
    const [ownHash] = Object.entries(await ownManifest()).find(([, text]) => text.includes('query UploadActivity('))!;
    const own = await raw(
      {
        extensions: apq(ownHash.replace('sha256:', '')),
        variables: { taxableEntityId: ENTITY, activityId: a.activityId },
      },
      auth,
    );
    expect((own.json.data as { uploadActivity: { status: string } }).uploadActivity.status).toBe('QUEUED');
  });
});
