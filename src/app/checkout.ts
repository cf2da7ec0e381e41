import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Whether this code runs compiled (dist/server/…) rather than from src/ under tsx. */
const isCompiled = fileURLToPath(import.meta.url).includes(`${sep}dist${sep}server${sep}`);

/**
 * A path of the checkout (`dist/web/`, `schema/generated/…`) from src/app/ under tsx
 * or from dist/server/app/ when compiled: the same file either way.
 */
export function checkoutPath(path: string): URL {
  return new URL(`${isCompiled ? '../../../' : '../../'}${path}`, import.meta.url);
}
