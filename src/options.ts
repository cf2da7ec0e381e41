/**
 * Checks of factory options at the door, as DataLoader's `getValidX` do: a factory
 * calls them on the numbers it is given and gets them back, or a `TypeError` that
 * says what was expected and what came (`intervalMs must be a positive whole number
 * of milliseconds, got 0`). Defaults live in config.ts only; factories take every
 * such option explicitly and check it here, so a 0 or NaN from a test or a wrong
 * call site fails at once instead of polling in a tight loop.
 *
 * The unit in a message comes from the option's name: `…Ms` milliseconds, `…Bytes`
 * bytes, `…Seconds` seconds. A leaf: imports nothing of ours.
 */

/** A whole number ≥ 1 (an interval, a size, a count that must not be zero). */
export function positiveInt(name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  throw new TypeError(`${name} must be a positive whole number${unitOf(name)}, got ${shown(value)}`);
}

/** A whole number ≥ 0 (a retry count, a delay, a size where 0 turns a feature off). */
export function nonNegativeInt(name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new TypeError(`${name} must be a non-negative whole number${unitOf(name)}, got ${shown(value)}`);
}

/** A string with something other than white space in it (a claim name, a path). */
export function nonEmptyString(name: string, value: unknown): string {
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw new TypeError(`${name} must be a non-empty string, got ${shown(value)}`);
}

function unitOf(name: string): string {
  if (name.endsWith('Ms')) return ' of milliseconds';
  if (name.endsWith('Bytes')) return ' of bytes';
  if (name.endsWith('Seconds')) return ' of seconds';
  return '';
}

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value as number | boolean | undefined | null | symbol);
}
