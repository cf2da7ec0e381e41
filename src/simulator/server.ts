import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { activityKey, activityKeyId } from '../domain/index.js';
import { listen } from '../server/listen.js';
import { ABORT_MESSAGE, nextState, type SimActivity } from './lifecycle.js';

/** A scripted misbehaviour, consumed by matching status requests. */
export interface SimFault {
  /** Only requests for this activity. @default any activity */
  activityId?: string;
  /** HTTP status to answer with. @default 500 */
  status?: number;
  /** Raw body to send. @default upstream's error shape for that status */
  body?: string;
  /** Extra response headers. @default none */
  headers?: Record<string, string>;
  /** Extra delay before answering. @default 0 */
  delayMs?: number;
  /** Destroy the socket instead of answering (a connection reset). @default false */
  reset?: boolean;
  /** How many requests it affects (`Infinity` until cleared). @default 1 */
  times?: number;
}

export interface CreateActivityInput {
  /** @default SEED_ENTITY_ID */
  taxableEntityId?: string;
  /** @default a random UUID */
  activityId?: string;
  /** @default 'INIT' */
  status?: string;
  /** @default null */
  errorMessage?: string | null;
  /** `undefined` in a later `setState` leaves it out of the body. @default 0 */
  queuedCount?: number | null;
  /** Moved by the simulator clock. @default true */
  isAuto?: boolean;
  /** Ends ABORTED instead of PROCESSED. @default false */
  willAbort?: boolean;
  /** queuedCount when it enters QUEUED. @default 3 */
  queueLength?: number;
}

export type ActivityPatch = Partial<Pick<SimActivity, 'status' | 'errorMessage' | 'queuedCount' | 'isAuto'>>;

export interface SimulatorStats {
  /** Status requests received (including faulted ones). */
  requests: number;
  inFlight: number;
  maxInFlight: number;
  /** Status requests per `${taxableEntityId}:${activityId}`. */
  byActivity: Map<string, number>;
}

export interface SimulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 = any free port. @default 0 */
  port?: number;
  /** Lifecycle clock step; 0 disables the clock (tests move activities themselves). */
  stepMs: number;
  /** Fixed delay before every status answer. @default 0 */
  delayMs?: number;
  /** Create a handful of demo activities at start. @default false */
  shouldSeed?: boolean;
  /**
   * Keep something moving for demos: every `demoEverySteps` clock steps, start a new
   * demo upload (every third ends ABORTED) while fewer than 4 are moving. Ids come
   * from a fixed seed, so the same run of ids follows every restart. 0 = off.
   * @default 0
   */
  demoEverySteps?: number;
  /** Seed of the ids the simulator makes (seeded and demo activities). @default 20261129 */
  idSeed?: number;
}

export interface Simulator {
  /** Starts listening; resolves to the base URL to use as CLEARTAX_BASE_URL. */
  start(): Promise<string>;
  /** Idempotent. */
  stop(): Promise<void>;
  readonly url: string;
  readonly stats: SimulatorStats;
  createActivity(input?: CreateActivityInput): SimActivity;
  /** Changes an activity's state now; throws for an unknown activity. */
  setState(taxableEntityId: string, activityId: string, patch: ActivityPatch): SimActivity;
  /** Advances every auto activity one lifecycle step now. */
  step(): void;
  /** The demo activities, newest last (at most the last 12), for the board's first view. */
  demoActivities(): SimActivity[];
  activities(): SimActivity[];
  addFault(fault: SimFault): void;
  clearFaults(): void;
  /** Makes upstream answer this status (401 or 403) for a token; `undefined` restores it. */
  setTokenStatus(token: string, status: 401 | 403 | undefined): void;
  /**
   * Holds every status request (counted, in flight, unanswered) until the returned
   * function is called: lets a test line up concurrent callers deterministically.
   */
  hold(): () => void;
}

const STATUS_PATH = /^\/v0\.2\/taxable_entities\/([^/]+)\/upload_activity\/([^/]+)\/status\/?$/;
const CONTROL_ACTIVITY_PATH = /^\/__simulator\/activities\/([^/]+)\/([^/]+)\/?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The demo entity whose activities `shouldSeed` creates. */
export const SEED_ENTITY_ID = '0b8c2a7e-5d1f-4c3a-9e6b-7f2d1a4c8e90';

/**
 * An embedded stand-in for the ClearTax upload-status endpoint: same path, header
 * and bodies (200 and the documented 404 shape), activities moving through the
 * lifecycle on a clock, and hooks for tests and demos (scripted states, faults,
 * delays, per-token 401/403, request counts). The `/__simulator/*` routes expose the
 * same hooks over HTTP; see the README.
 */
export function createSimulator(options: SimulatorOptions): Simulator {
  const activities = new Map<string, SimActivity>();
  let faults: (SimFault & { left: number })[] = [];
  const tokenStatus = new Map<string, 401 | 403>();
  const sockets = new Set<Socket>();
  const delayMs = options.delayMs ?? 0;
  let gate: Promise<void> | undefined;
  let clock: NodeJS.Timeout | undefined;
  let url = '';
  let stopping: Promise<void> | undefined;
  const stats: SimulatorStats = { requests: 0, inFlight: 0, maxInFlight: 0, byActivity: new Map() };

  // Upstream treats ids case-insensitively, as the gateway's keys do.
  const keyOf = (entity: string, activity: string) => activityKeyId(activityKey(entity, activity));
  // Ids from a fixed seed: a restarted simulator makes the same ids in the same order.
  const nextRandom = mulberry32(options.idSeed ?? 20261129);
  const nextId = () => seededUuid(nextRandom);
  const demo: SimActivity[] = [];
  let steps = 0;
  let demoCount = 0;

  function createActivity(input: CreateActivityInput = {}): SimActivity {
    const activity: SimActivity = {
      taxableEntityId: input.taxableEntityId ?? SEED_ENTITY_ID,
      activityId: input.activityId ?? nextId(),
      status: input.status ?? 'INIT',
      errorMessage: input.errorMessage ?? null,
      queuedCount: input.queuedCount === undefined ? 0 : input.queuedCount,
      isAuto: input.isAuto ?? true,
      plan: { willAbort: input.willAbort ?? false, queueLength: input.queueLength ?? 3 },
    };
    activities.set(keyOf(activity.taxableEntityId, activity.activityId), activity);
    return activity;
  }

  function setState(entity: string, activityId: string, patch: ActivityPatch): SimActivity {
    const activity = activities.get(keyOf(entity, activityId));
    if (!activity) throw new Error(`simulator has no activity ${entity}/${activityId}`);
    // Only own keys count: `queuedCount: undefined` means "leave it out of the body".
    for (const [field, value] of Object.entries(patch)) (activity as unknown as Record<string, unknown>)[field] = value;
    return activity;
  }

  function step(): void {
    for (const activity of activities.values()) {
      if (!activity.isAuto) continue;
      const next = nextState(activity);
      if (next) Object.assign(activity, next);
    }
    steps += 1;
    const every = options.demoEverySteps ?? 0;
    if (every > 0 && steps % every === 0) {
      const moving = demo.filter((a) => a.status !== 'PROCESSED' && a.status !== 'ABORTED').length;
      if (moving < 4) {
        demoCount += 1;
        demo.push(createActivity({ status: 'INIT', willAbort: demoCount % 3 === 0, queueLength: 2 + (demoCount % 4) }));
        if (demo.length > 12) demo.shift();
      }
    }
  }

  function seed(): void {
    demo.push(
      createActivity({ status: 'PROCESSED', isAuto: false }),
      createActivity({ status: 'ABORTED', errorMessage: ABORT_MESSAGE, isAuto: false }),
      createActivity({ status: 'INIT' }),
      createActivity({ status: 'INIT', willAbort: true, queueLength: 2 }),
      createActivity({ status: 'QUEUED', queuedCount: 5, queueLength: 5 }),
    );
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function upstreamError(status: number, message: string): unknown {
    return { errors: { err_1: { code: String(status), message, error_group_code: 0, error_id: 0 } } };
  }

  async function handleStatus(
    req: IncomingMessage,
    res: ServerResponse,
    entity: string,
    activityId: string,
  ): Promise<void> {
    const counted = keyOf(entity, activityId);
    stats.requests += 1;
    stats.byActivity.set(counted, (stats.byActivity.get(counted) ?? 0) + 1);
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      const fault = faults.find(
        (f) => f.left > 0 && (f.activityId === undefined || f.activityId.toLowerCase() === activityId.toLowerCase()),
      );
      if (fault) fault.left -= 1;
      if (gate) await gate;
      const wait = delayMs + (fault?.delayMs ?? 0);
      if (wait > 0) await sleep(wait);
      if (fault?.reset) {
        req.socket.destroy();
        return;
      }
      if (fault && (fault.status !== undefined || fault.body !== undefined)) {
        const status = fault.status ?? 500;
        send(res, status, fault.body ?? upstreamError(status, 'Simulated failure'), fault.headers);
        return;
      }
      const token = req.headers['x-cleartax-auth-token'];
      if (typeof token !== 'string' || token.trim() === '') {
        send(res, 401, upstreamError(401, 'Missing X-Cleartax-Auth-Token'));
        return;
      }
      const denied = tokenStatus.get(token);
      if (denied) {
        send(
          res,
          denied,
          upstreamError(denied, denied === 401 ? 'Invalid auth token' : 'Access to this taxable entity is denied'),
        );
        return;
      }
      const activity = UUID.test(entity) && UUID.test(activityId) ? activities.get(counted) : undefined;
      if (!activity) {
        send(res, 404, upstreamError(404, `No activity found for id ${activityId}`));
        return;
      }
      const body: Record<string, unknown> = {
        activityId: activity.activityId,
        status: activity.status,
        errorMessage: activity.errorMessage,
      };
      if (activity.queuedCount !== undefined) body.queuedCount = activity.queuedCount;
      send(res, 200, body);
    } finally {
      stats.inFlight -= 1;
    }
  }

  async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
    let text = '';
    for await (const chunk of req) {
      text += String(chunk);
      if (text.length > 64 * 1024) throw new Error('body too large');
    }
    if (text.trim() === '') return {};
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('body must be a JSON object');
    return value as Record<string, unknown>;
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      if (path === '/__simulator/activities' && req.method === 'GET') return send(res, 200, [...activities.values()]);
      if (path === '/__simulator/activities' && req.method === 'POST') {
        return send(res, 201, createActivity((await readJson(req)) as CreateActivityInput));
      }
      const match = CONTROL_ACTIVITY_PATH.exec(path);
      if (match && (req.method === 'PUT' || req.method === 'PATCH')) {
        return send(
          res,
          200,
          setState(
            decodeURIComponent(match[1]!),
            decodeURIComponent(match[2]!),
            (await readJson(req)) as ActivityPatch,
          ),
        );
      }
      if (path === '/__simulator/faults' && req.method === 'POST') {
        addFault((await readJson(req)) as SimFault);
        return send(res, 201, { faults: faults.length });
      }
      if (path === '/__simulator/faults' && req.method === 'DELETE') {
        clearFaults();
        return send(res, 200, { faults: 0 });
      }
      if (path === '/__simulator/stats' && req.method === 'GET') {
        return send(res, 200, { ...stats, byActivity: Object.fromEntries(stats.byActivity) });
      }
      send(res, 404, { error: `no simulator route ${req.method} ${path}` });
    } catch (error) {
      send(res, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://simulator').pathname;
    const match = STATUS_PATH.exec(path);
    const work =
      match && req.method === 'GET'
        ? handleStatus(req, res, safeDecode(match[1]!), safeDecode(match[2]!))
        : path.startsWith('/__simulator/')
          ? handleControl(req, res, path)
          : Promise.resolve(send(res, 404, upstreamError(404, `No route for ${req.method} ${path}`)));
    work.catch(() => {
      if (!res.headersSent) send(res, 500, upstreamError(500, 'Simulator error'));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function addFault(fault: SimFault): void {
    faults.push({ ...fault, left: fault.times ?? 1 });
  }

  function clearFaults(): void {
    faults = [];
  }

  return {
    async start() {
      if (options.shouldSeed) seed();
      url = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
      if (options.stepMs > 0) clock = setInterval(step, options.stepMs);
      return url;
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        if (clock) clearInterval(clock);
        if (!server.listening) return resolve();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopping;
    },
    get url() {
      return url;
    },
    stats,
    createActivity,
    setState,
    step,
    activities: () => [...activities.values()],
    demoActivities: () => [...demo],
    addFault,
    clearFaults,
    setTokenStatus(token, status) {
      if (status === undefined) tokenStatus.delete(token);
      else tokenStatus.set(token, status);
    },
    hold() {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      gate = held;
      return () => {
        if (gate === held) gate = undefined;
        release();
      };
    },
  };
}

/** A small deterministic PRNG (mulberry32), also used by the benchmarks so runs are comparable. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A version-4-shaped UUID from `random`. */
function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
