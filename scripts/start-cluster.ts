import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * `npm run start:cluster`: tries multi-instance mode locally. Starts a redis-server
 * (Debian's package redis-server), one simulator as the shared upstream, and two
 * gateways on adjacent ports (PORT, default 4000, and PORT + 1) that share both, in
 * `open` mode. Ctrl-C stops everything.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const port = Number(process.env.PORT ?? 4000);
const redisPort = Number(process.env.CLUSTER_REDIS_PORT ?? 6390);
const simulatorPort = Number(process.env.SIMULATOR_PORT ?? 41234);
const children: ChildProcess[] = [];

function run(name: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer) =>
    String(chunk)
      .split('\n')
      .filter(Boolean)
      .map((line) => `[${name}] ${line}`)
      .join('\n') + '\n';
  child.stdout!.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`[${name}] exited with ${code}; stopping the cluster`);
      stop();
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(): void {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

run('redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
run('simulator', process.execPath, ['--import', 'tsx', 'src/simulator/main.ts'], {
  SIMULATOR_PORT: String(simulatorPort),
});
await new Promise((resolve) => setTimeout(resolve, 1500));
for (const [index, gatewayPort] of [port, port + 1].entries()) {
  run(`gateway-${index + 1}`, process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    PORT: String(gatewayPort),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    CLEARTAX_BASE_URL: `http://127.0.0.1:${simulatorPort}`,
    AUTH_MODE: 'open',
    CLEARTAX_AUTH_TOKEN: 'cluster-demo-token',
  });
}
