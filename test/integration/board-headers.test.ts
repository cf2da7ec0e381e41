import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { startStack } from '../helpers/stack.js';

const assets = fileURLToPath(new URL('../../dist/web/assets/', import.meta.url));
const bundle = () => readdirSync(assets).find((name) => name.endsWith('.js'))!;

describe('the board: security headers and caching', () => {
  it('serves / with a strict CSP, nosniff and frame protection, index.html no-cache and hashed assets immutable for a year; /graphql keeps no CSP', async () => {
    const { app } = await startStack();
    const root = app.url.replace(/\/graphql$/, '');
    const page = await fetch(`${root}/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('<div id="root">');
    const asset = await fetch(`${root}/assets/${bundle()}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
    await asset.arrayBuffer();
    // Sandbox at /graphql loads from Apollo's CDN: the board's policy must not reach it.
    const sandbox = await fetch(app.url, { headers: { accept: 'text/html' } });
    expect(sandbox.headers.get('content-security-policy')).toBeNull();
    await sandbox.text();
    // Source maps are served in development.
    const map = await fetch(`${root}/assets/${bundle()}.map`);
    expect(map.status).toBe(200);
    await map.text();
  });

  it('serves no source maps with NODE_ENV=production', async () => {
    const upstream = await startFakeUpstream((_req, res) => res.writeHead(404).end());
    const { app } = await startStack({ NODE_ENV: 'production', CLEARTAX_BASE_URL: upstream.url });
    const root = app.url.replace(/\/graphql$/, '');
    const map = await fetch(`${root}/assets/${bundle()}.map`);
    expect(map.status).toBe(404);
    await map.text();
    const asset = await fetch(`${root}/assets/${bundle()}`);
    expect(asset.status).toBe(200);
    await asset.arrayBuffer();
  });
});
