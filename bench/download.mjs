// Download throughput: m1kit vs curl (sequential and --parallel) against the loopback hub + CDN.
// Every tool fetches the same files through the same /resolve → 302 → CDN path in the same run, so the
// ratio is meaningful even though the absolute numbers depend on the machine (loopback, page cache, disk).
//
//   npm run build && npm run bench:download
//   M1KIT_BENCH_DOWNLOAD_GB=8 M1KIT_BENCH_DOWNLOAD_FILES=16 M1KIT_BENCH_CONCURRENCY=8 M1KIT_BENCH_ROUNDS=5 npm run bench:download
//
// The tools run interleaved for M1KIT_BENCH_ROUNDS rounds and the medians are compared: on a shared
// machine one run of each is too noisy to compare (other work changes the kernel cost of page-cache
// writes by several times from one minute to the next). "server CPU" is what the loopback hub + CDN of
// this process spent serving each tool; on a 2-core machine it competes with the client for the cores.
// m1kit also fsyncs every file before it is renamed (curl does not), which is part of its wall time.
//
// Napkin math: sha256 with SHA-NI runs at ~1.5–2 GB/s on one core; at loopback rates of 1–3 GB/s hashing
// alone can fill a core, which is why the CPU cost is printed next to the ratio. m1kit hashes the files of
// a transfer thread side by side (up to four streams per call), which the SHA extensions run faster.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHubServer } from '../test/helpers/hub/hub-server.mjs';
import { hashRates, machineLine } from './machine.mjs';

const GB = 1e9;
const totalGB = Number(process.env.M1KIT_BENCH_DOWNLOAD_GB ?? 2);
const nFiles = Number(process.env.M1KIT_BENCH_DOWNLOAD_FILES ?? 8);
const concurrency = Number(process.env.M1KIT_BENCH_CONCURRENCY ?? 8);
const rounds = Math.max(1, Number(process.env.M1KIT_BENCH_ROUNDS ?? 3));
const bin = fileURLToPath(new URL('../bin/m1kit.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'm1kit-bench-dl-'));
const timeBin = '/usr/bin/time';
const hasTime = spawnSync(timeBin, ['-f', '%e', 'true']).status === 0;

function makeFile(path, size, seed) {
  const fd = openSync(path, 'w');
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(16 << 20);
  let left = size;
  randomFillSync(buf);
  buf.writeUInt32LE(seed, 0);
  while (left > 0) {
    const n = Math.min(left, buf.length);
    buf.writeUInt32LE(left >>> 0, 4); // vary each chunk so files are not trivially repetitive
    h.update(buf.subarray(0, n));
    writeSync(fd, buf, 0, n);
    left -= n;
  }
  closeSync(fd);
  return h.digest('hex');
}

/** Run a command (async: the hub server lives in this process) under /usr/bin/time; wall, CPU and server CPU seconds. */
async function timed(cmd, args, env = {}) {
  const out = join(work, 'time.txt');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const [c, a] = hasTime ? [timeBin, ['-f', '%U %S', '-o', out, cmd, ...args]] : [cmd, args];
  const child = spawn(c, a, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  const status = await new Promise((ok) => child.on('exit', (code) => ok(code)));
  const wall = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  if (status !== 0) throw new Error(`${cmd} exited with ${status}`);
  const cpu = hasTime ? readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number).reduce((a, b) => a + b, 0) : NaN;
  return { wall, cpu, server: (c1.user + c1.system) / 1e6 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const size = Math.floor((totalGB * GB) / nFiles);
const src = join(work, 'src');
execFileSync('mkdir', ['-p', src]);
process.stderr.write(`generating ${nFiles} × ${(size / GB).toFixed(2)} GB in ${src}\n`);
const files = [];
for (let i = 0; i < nFiles; i++) {
  const path = `model-${String(i).padStart(5, '0')}-of-${String(nFiles).padStart(5, '0')}.safetensors`;
  const file = join(src, path);
  files.push({ path, file, size, sha256: makeFile(file, size, i), lfs: true });
}
const server = await startHubServer();
const commit = server.addCommit('bench/m1', files);
const urls = files.map((f) => `${server.url}/bench/m1/resolve/${commit}/${f.path}`);
const bytes = size * nFiles;

/** name → list of { wall, cpu, server } over the rounds */
const runs = new Map();
function record(name, t, check) {
  check();
  runs.set(name, [...(runs.get(name) ?? []), t]);
  const gbps = bytes / GB / t.wall;
  process.stderr.write(`${name.padEnd(22)} ${t.wall.toFixed(2)} s  ${gbps.toFixed(2)} GB/s  cpu ${Number.isNaN(t.cpu) ? 'n/a' : `${t.cpu.toFixed(2)} s`}  server cpu ${t.server.toFixed(2)} s\n`);
}
const curlOut = join(work, 'curl');
const curlArgs = (extra) => ['-sS', '--no-progress-meter', '-f', '-L', ...extra, '--create-dirs', ...urls.flatMap((u, i) => ['-o', join(curlOut, files[i].path), u])];
const checkCurl = () => {
  for (const f of files) if (statSync(join(curlOut, f.path)).size !== f.size) throw new Error(`curl wrote a short ${f.path}`);
  rmSync(curlOut, { recursive: true, force: true });
};
const cache = join(work, 'cache');
const names = ['curl sequential', `curl --parallel ${concurrency}`, `m1kit -c ${concurrency}`];
for (let round = 1; round <= rounds; round++) {
  if (rounds > 1) process.stderr.write(`round ${round} of ${rounds}\n`);
  record(names[0], await timed('curl', curlArgs([])), checkCurl);
  record(names[1], await timed('curl', curlArgs(['--parallel', '--parallel-max', String(concurrency)])), checkCurl);
  record(
    names[2],
    await timed('node', [bin, 'download', 'bench/m1', '--quiet', '--cache-dir', cache, '--concurrency', String(concurrency)], { HF_ENDPOINT: server.url, HF_TOKEN: '' }),
    () => {
      for (const f of files) if (statSync(join(cache, 'models--bench--m1', 'blobs', f.sha256)).size !== f.size) throw new Error(`m1kit missed ${f.path}`);
      rmSync(cache, { recursive: true, force: true });
    },
  );
}
const results = names.map((name) => {
  const list = runs.get(name);
  const wall = median(list.map((t) => t.wall));
  return { name, wall, gbps: bytes / GB / wall, cpu: median(list.map((t) => t.cpu)), server: median(list.map((t) => t.server)) };
});
await server.close();

// hashing cost in isolation, one core: node's sha256 on one stream, and m1kit's own hashing (four
// streams interleaved on the SHA extensions, when the CPU has them)
const rates = hashRates();
const hashGBps = rates.node;
const laneGBps = rates.lanes4;
rmSync(work, { recursive: true, force: true });

const par = results[1];
const m1 = results[2];
const hashCpu = bytes / GB / hashGBps;
const cpuText = (cpu) => (Number.isNaN(cpu) ? 'n/a' : `${cpu.toFixed(2)} s CPU = ${(cpu / (bytes / GB)).toFixed(2)} s/GB`);
console.log(machineLine(rates));
console.log(`download ${nFiles} files, ${(bytes / GB).toFixed(2)} GB over loopback (hub 302 → CDN), concurrency ${concurrency}, median of ${rounds} round(s)`);
for (const r of results) console.log(`  ${r.name.padEnd(22)} ${r.gbps.toFixed(2)} GB/s  (${r.wall.toFixed(2)} s wall, ${cpuText(r.cpu)}; server ${r.server.toFixed(2)} s CPU)`);
console.log(`  ratio m1kit / curl --parallel: ${(m1.gbps / par.gbps).toFixed(2)}x   (target ≥ 0.90x)`);
console.log(`  ratio m1kit / curl sequential: ${(m1.gbps / results[0].gbps).toFixed(2)}x`);
console.log(`  sha256 alone (node, one stream): ${hashGBps.toFixed(2)} GB/s per core → ${hashCpu.toFixed(2)} s CPU for this set` +
  (Number.isNaN(m1.cpu) ? '' : ` = ${((100 * hashCpu) / m1.cpu).toFixed(0)}% of m1kit's ${m1.cpu.toFixed(2)} s CPU`));
if (laneGBps) console.log(`  sha256 as m1kit hashes (4 streams interleaved): ${laneGBps.toFixed(2)} GB/s per core → ${(bytes / GB / laneGBps).toFixed(2)} s CPU for this set`);
if (!Number.isNaN(m1.cpu) && !Number.isNaN(par.cpu)) {
  const ownHashCpu = laneGBps ? bytes / GB / laneGBps : hashCpu;
  console.log(`  m1kit CPU beyond curl --parallel + its sha256: ${(m1.cpu - par.cpu - ownHashCpu).toFixed(2)} s`);
}
