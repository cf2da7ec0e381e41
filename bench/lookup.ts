/**
 * `npm run bench:lookup`: how well lookups are batched and deduplicated.
 *
 * Concurrent clients send waves of GraphQL requests over HTTP to a real gateway in
 * front of the simulator (fixed upstream delay). In each wave every client sends
 * one request; each id it asks for is, with probability --repeat, one already asked
 * for in that wave, else a fresh id from the pool. Scenarios:
 *   - single/non-terminal: `uploadActivity`, activities in PROCESSING (read fresh
 *     per request, so only concurrent requests may share an upstream call): the
 *     ideal is one upstream request per distinct id per wave;
 *   - single/terminal: the same over PROCESSED activities (cacheable): the ideal
 *     is one upstream request per distinct id over the whole run;
 *   - list: `uploadActivities` with --batch ids per request, non-terminal.
 * Prints requests/s, p50/p99 latency and upstream requests / ideal.
 *
 * Options: --clients 64 --waves 40 --ids 400 --repeat 0.5 --delay 20 --batch 10
 */
import { ENTITY, numericArgs, percentile, random, startGateway, table } from './harness.js';

const opts = numericArgs({ clients: 64, waves: 40, ids: 400, repeat: 0.5, delay: 20, batch: 10, concurrency: 32 });

interface Scenario {
  name: string;
  status: string;
  batch: number;
  /** Terminal statuses are cached: distinct ids count once for the whole run. */
  isCacheable: boolean;
}

const scenarios: Scenario[] = [
  { name: 'uploadActivity, non-terminal', status: 'PROCESSING', batch: 1, isCacheable: false },
  { name: 'uploadActivity, terminal', status: 'PROCESSED', batch: 1, isCacheable: true },
  { name: `uploadActivities x${opts.batch}, non-terminal`, status: 'QUEUED', batch: opts.batch, isCacheable: false },
];

async function run(scenario: Scenario) {
  const gateway = await startGateway(
    { UPSTREAM_MAX_CONCURRENCY: String(opts.concurrency), MAX_ACTIVITY_IDS: String(Math.max(100, opts.batch)) },
    { delayMs: opts.delay },
  );
  try {
    const pool = Array.from(
      { length: opts.ids },
      () =>
        gateway.simulator.createActivity({ taxableEntityId: ENTITY, status: scenario.status, isAuto: false })
          .activityId,
    );
    const next = random(42);
    let cursor = 0;
    const latencies: number[] = [];
    const distinctOverall = new Set<string>();
    let ideal = 0;
    let requests = 0;
    const started = performance.now();
    for (let wave = 0; wave < opts.waves; wave++) {
      const inWave: string[] = [];
      const bodies = Array.from({ length: opts.clients }, () => {
        const ids = Array.from({ length: scenario.batch }, () => {
          const id =
            inWave.length > 0 && next() < opts.repeat
              ? inWave[Math.floor(next() * inWave.length)]!
              : pool[cursor++ % pool.length]!;
          inWave.push(id);
          return id;
        });
        return scenario.batch === 1
          ? {
              query: `query($e: UUID!, $a: UUID!) { uploadActivity(taxableEntityId: $e, activityId: $a) { status } }`,
              variables: { e: ENTITY, a: ids[0] },
            }
          : {
              query: `query($e: UUID!, $a: [UUID!]!) { uploadActivities(taxableEntityId: $e, activityIds: $a) { status } }`,
              variables: { e: ENTITY, a: ids },
            };
      });
      const waveDistinct = new Set(inWave);
      for (const id of waveDistinct) distinctOverall.add(id);
      if (!scenario.isCacheable) ideal += waveDistinct.size;
      await Promise.all(
        bodies.map(async (body) => {
          const t0 = performance.now();
          const response = await fetch(gateway.app.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'X-Cleartax-Auth-Token': 'bench' },
            body: JSON.stringify(body),
          });
          const json = (await response.json()) as { errors?: unknown[] };
          if (json.errors) throw new Error(`bench request failed: ${JSON.stringify(json.errors[0])}`);
          latencies.push(performance.now() - t0);
          requests += 1;
        }),
      );
    }
    const seconds = (performance.now() - started) / 1000;
    if (scenario.isCacheable) ideal = distinctOverall.size;
    latencies.sort((a, b) => a - b);
    const upstream = gateway.simulator.stats.requests;
    return [
      scenario.name,
      requests,
      requests * scenario.batch,
      Math.round(requests / seconds),
      percentile(latencies, 50).toFixed(1),
      percentile(latencies, 99).toFixed(1),
      upstream,
      ideal,
      (upstream / ideal).toFixed(2),
      (upstream / (requests * scenario.batch)).toFixed(3),
    ];
  } finally {
    await gateway.stop();
  }
}

const rows = [];
for (const scenario of scenarios) rows.push(await run(scenario));
console.log(
  `\nlookup bench: ${opts.clients} clients x ${opts.waves} waves, ${opts.ids} ids, repeat ${opts.repeat}, upstream delay ${opts.delay} ms, concurrency cap ${opts.concurrency}, node ${process.version}\n`,
);
console.log(
  table(
    [
      'scenario',
      'requests',
      'ids asked',
      'req/s',
      'p50 ms',
      'p99 ms',
      'upstream',
      'distinct ids',
      'upstream / distinct',
      'upstream / id asked',
    ],
    rows,
  ),
);
