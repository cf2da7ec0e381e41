import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Vite would load graphql's ESM build while type-graphql requires the CommonJS
    // one: two copies, "Cannot use GraphQLSchema from another module or realm".
    // Alias only the bare specifier so subpath imports keep working.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql/index.js') }],
  },
  oxc: {
    // Behave like production (tsx/esbuild): legacy decorators, no emitted
    // design:type metadata, so a decorator without an explicit type fails here too.
    decorator: { legacy: true, emitDecoratorMetadata: false },
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['reflect-metadata'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
