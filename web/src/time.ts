/** Clock times and durations as the board writes them. Local time; pure. */

const two = (n: number) => String(n).padStart(2, '0');

/** `14:03:22`: the local clock time of a moment (ms since the epoch). */
export function clockTime(at: number): string {
  const date = new Date(at);
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** `2026-11-29 14:03:22 UTC+05:30`: the full local timestamp, with its offset from UTC. */
export function fullTimestamp(at: number): string {
  const date = new Date(at);
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const zone = `UTC${sign}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${clockTime(at)} ${zone}`;
}

/** `45 s`, `3 min 05 s`, `2 h 04 min`: how long something has lasted (never negative). */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${two(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${two(minutes % 60)} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** `just now`, `12 s ago`, `3 min ago`: how long ago a read was. */
export function ago(now: number, at: number): string {
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  return seconds < 2 ? 'just now' : seconds < 90 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
}
