import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { UploadActivityDocument } from '../../schema/generated/graphql.js';
import { ENTITY, startStack } from '../helpers/stack.js';

/** `npm run -s token`, as the README's local jwt recipe runs it, against a real jwt-mode gateway. */

const root = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'local-dev-secret-for-the-token-script-test-0123';
const OTHER_ENTITY = '99999999-2222-4333-8444-555555555555';

function mint(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '-s', 'token', '--', ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run token', () => {
  it(
    'mints a JWT the gateway accepts for the named entity only, with its sub, issuer, audience and lifetime',
    { timeout: 60_000 },
    async () => {
      const env = {
        AUTH_JWT_SECRET: SECRET,
        AUTH_JWT_ISSUER: 'https://idp.local',
        AUTH_JWT_AUDIENCE: 'upload-status-gateway',
      };
      const { simulator, query } = await startStack({ AUTH_MODE: 'jwt', CLEARTAX_AUTH_TOKEN: 'server-token', ...env });
      const mine = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 4 });
      const theirs = simulator.createActivity({ taxableEntityId: OTHER_ENTITY, status: 'PROCESSED' });

      const minted = await mint([ENTITY, '--sub', 'alice', '--ttl', '5m'], env);
      expect(minted).toMatchObject({ code: 0 });
      const jwt = minted.stdout.trim();
      expect(jwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/); // the token alone on stdout
      const claims = decodeJwt(jwt);
      expect(claims).toMatchObject({
        sub: 'alice',
        iss: 'https://idp.local',
        aud: 'upload-status-gateway',
        taxable_entity_ids: [ENTITY],
      });
      expect(claims.exp! - claims.iat!).toBe(300);

      const headers = { authorization: `Bearer ${jwt}` };
      const allowed = await query(
        UploadActivityDocument,
        { taxableEntityId: ENTITY, activityId: mine.activityId },
        { token: null, headers },
      );
      expect(allowed.errors).toBeUndefined();
      expect(allowed.data!.uploadActivity).toMatchObject({ status: 'QUEUED', queuedCount: 4 });
      const denied = await query(
        UploadActivityDocument,
        { taxableEntityId: OTHER_ENTITY, activityId: theirs.activityId },
        { token: null, headers },
      );
      expect(denied.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    },
  );

  it(
    "mints '*' under the configured AUTH_ENTITIES_CLAIM, read by a gateway configured the same",
    { timeout: 60_000 },
    async () => {
      const env = { AUTH_JWT_SECRET: SECRET, AUTH_ENTITIES_CLAIM: 'entities' };
      const { simulator, query } = await startStack({ AUTH_MODE: 'jwt', CLEARTAX_AUTH_TOKEN: 'server-token', ...env });
      const theirs = simulator.createActivity({ taxableEntityId: OTHER_ENTITY, status: 'PROCESSED' });
      const minted = await mint(['*'], env);
      expect(minted.code).toBe(0);
      expect(decodeJwt(minted.stdout.trim())).toMatchObject({ sub: 'local-dev', entities: '*' });
      const result = await query(
        UploadActivityDocument,
        { taxableEntityId: OTHER_ENTITY, activityId: theirs.activityId },
        { token: null, headers: { authorization: `Bearer ${minted.stdout.trim()}` } },
      );
      expect(result.errors).toBeUndefined();
      expect(result.data!.uploadActivity!.status).toBe('PROCESSED');
    },
  );

  it.each([
    ['no secret', [ENTITY], {}, 'AUTH_JWT_SECRET is not set'],
    [
      'a secret shorter than the gateway accepts',
      [ENTITY],
      { AUTH_JWT_SECRET: 'too-short' },
      'AUTH_JWT_SECRET must be at least 32 characters',
    ],
    ['no entity', [], { AUTH_JWT_SECRET: SECRET }, 'name at least one taxable entity id'],
    ['an entity id that is no UUID', ['acme'], { AUTH_JWT_SECRET: SECRET }, 'not a taxable entity id'],
    [
      'a lifetime past 24 h',
      [ENTITY, '--ttl', '25h'],
      { AUTH_JWT_SECRET: SECRET },
      '--ttl must be between 1 s and 24 h',
    ],
  ])(
    'refuses %s: exit 1, a message on stderr, nothing on stdout',
    { timeout: 30_000 },
    async (_name, args, env, message) => {
      const minted = await mint(args, env);
      expect(minted.code).toBe(1);
      expect(minted.stdout).toBe('');
      expect(minted.stderr).toContain(message);
    },
  );
});
