// A plain ES-module consumer of the package, as a user's script would be: `import … from 'm1kit'` resolved
// by package name (package.json "exports"), no TypeScript, no test framework. It runs every command's
// library function on the committed tiny fixture and prints one JSON summary for the test to check.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as m1kit from 'm1kit';

const { bench, convert, dequantize, download, fixture, forward, imatrix, inspect, inspectCheckpoint, quantize, verify, verifyCorpus, verifyDownload, M1kitError } = m1kit;
const tiny = process.argv[2];
const dir = await mkdtemp(join(tmpdir(), 'm1kit-consumer-'));
const calls = {};
const progress = (name) => (done, total) => {
  calls[name] = calls[name] ?? { count: 0, last: null };
  calls[name].count++;
  calls[name].last = [done, total];
};
const out = { exports: Object.keys(m1kit).sort(), calls };
try {
  out.inspect = (await inspect(tiny, { tp: 2, ctx: 1024 })).memoryPlan.ctx;
  out.inspectCheckpoint = (await inspectCheckpoint(tiny)).tensors;
  out.fixture = (await fixture(join(dir, 'fx'), { preset: 'tiny', seed: 3, onProgress: progress('fixture') })).files.length;
  out.convert = (await convert(tiny, join(dir, 'tp2'), { tp: 2, onProgress: progress('convert') })).layout.world;
  out.gguf = Object.keys(await convert(tiny, join(dir, 'tiny.gguf'), { to: 'gguf', dtype: 'q8_0', onProgress: progress('gguf') })).length > 0;
  const q = await quantize(tiny, join(dir, 'int8'), { scheme: 'int8-channel', onProgress: progress('quantize') });
  out.quantize = q.errorSummary.map((e) => e.group).sort();
  out.dequantize = (await dequantize(join(dir, 'int8'), join(dir, 'restored'))).kind;
  const logits = await forward(tiny, [1, 2, 3], { onProgress: progress('forward') });
  out.forward = logits.length;
  const v = await verify(join(dir, 'int8'), { against: tiny, sequences: 1, seqLen: 8, maxKld: 0.01, minTop1: 50, onProgress: progress('verify') });
  out.verify = { pass: v.pass, kldMean: v.metrics.kld.mean };
  const corpus = Array.from({ length: 64 }, (_, i) => (i * 37) % 512);
  const vc = await verifyCorpus(join(dir, 'int8'), corpus, { against: tiny, ctx: 32, klDivergenceBase: join(dir, 'base.kld'), onProgress: progress('verifyCorpus') });
  out.verifyCorpus = { chunks: vc.chunks, kldMean: vc.stats.kld.mean };
  out.imatrix = (await imatrix(tiny, corpus, { out: join(dir, 'im.gguf'), ctx: 32, onProgress: progress('imatrix') })).chunks;
  const b = await bench({ ctx: 2 ** 20 });
  out.bench = { schema: b.schema, hasRatio: Object.keys(b.metrics).some((k) => k.startsWith('ratio.')) };
  if (process.env.M1KIT_CONSUMER_HUB) {
    const cacheDir = join(dir, 'hub');
    const d = await download('org/m1', { endpoint: process.env.M1KIT_CONSUMER_HUB, cacheDir, token: '', onProgress: progress('download') });
    out.download = d.totals.files;
    out.verifyDownload = (await verifyDownload('org/m1', { endpoint: process.env.M1KIT_CONSUMER_HUB, cacheDir, token: '' })).ok;
  }
  // an aborted signal stops the work with a typed error and the CLI's exit code
  const ac = new AbortController();
  ac.abort();
  try {
    await convert(tiny, join(dir, 'aborted'), { signal: ac.signal });
    out.abort = 'not aborted';
  } catch (e) {
    out.abort = { isM1kitError: e instanceof M1kitError, code: e.code, exitCode: e.exitCode };
  }
  try {
    await inspect(join(dir, 'missing'));
  } catch (e) {
    out.missing = { code: e.code, exitCode: e.exitCode };
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out));
