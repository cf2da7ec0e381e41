import { describe, expect, it } from 'vitest';
import { hashToken, resolveConnectionToken, resolveToken } from '../../src/token.js';

describe('hashToken', () => {
  it('is a stable, short, URL-safe fingerprint that does not contain the token', () => {
    const token = 'secret-token-0123456789';
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(token)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(hashToken(token)).not.toContain(token.slice(0, 6));
    // sha256("abc") in base64url, first 22 characters: pins the algorithm, so keys stay stable across releases.
    expect(hashToken('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7');
  });

  it('differs between tokens, even ones that differ in case or one character', () => {
    const hashes = new Set(['token', 'Token', 'token ', 'tokeN', 'token1'].map(hashToken));
    expect(hashes.size).toBe(5);
  });
});

describe('resolveToken (HTTP header)', () => {
  it('takes a trimmed, non-empty header, else the fallback', () => {
    expect(resolveToken('  abc  ', 'server')).toBe('abc');
    expect(resolveToken(['first', 'second'], 'server')).toBe('first');
    expect(resolveToken('   ', 'server')).toBe('server');
    expect(resolveToken(undefined, 'server')).toBe('server');
    expect(resolveToken(undefined, undefined)).toBeUndefined();
    expect(resolveToken(42, undefined)).toBeUndefined();
  });
});

describe('resolveConnectionToken (WebSocket connectionParams)', () => {
  it('prefers authToken, then a X-Cleartax-Auth-Token key in any case, then the fallback', () => {
    expect(resolveConnectionToken({ authToken: 'a', 'X-Cleartax-Auth-Token': 'b' }, 'server')).toBe('a');
    expect(resolveConnectionToken({ 'x-cleartax-AUTH-token': ' b ' }, 'server')).toBe('b');
    expect(resolveConnectionToken({ authToken: '' }, 'server')).toBe('server');
    expect(resolveConnectionToken({}, undefined)).toBeUndefined();
    expect(resolveConnectionToken(undefined, 'server')).toBe('server');
  });
});
