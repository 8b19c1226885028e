#!/usr/bin/env node
// Builds the native addon (node-gyp + node-addon-api) and, when nvcc exists, the CUDA library.
// Run by `npm install` / `npm ci` (package.json "install") and by `npm run build:native`.
//
// - Offline: node-gyp gets --nodedir derived from the running node (its bundled headers, e.g.
//   /usr/include/node), never downloads headers, and runs with npm_config_* removed from its
//   environment so a user's npmrc cannot change the build.
// - No compiler or headers: prints a loud warning and exits 0 (m1kit then uses the TypeScript
//   reference kernels); with M1KIT_REQUIRE_NATIVE=1 (CI) it exits 1 instead.
// - CUDA: if nvcc is found (NVCC, PATH, /usr/local/cuda/bin, /usr/local/bin) the sources in
//   kernels/cuda are compiled for sm_80 and sm_90a (+ compute_90 PTX) into build/Release/libm1kit_cuda.so with a static
//   CUDA runtime; M1KIT_SKIP_CUDA=1 skips it. A CUDA compile failure is fatal only with
//   M1KIT_REQUIRE_NATIVE=1.
// Writes kernels/build/build-info.json, which `m1kit doctor` reports.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const requireNative = process.env.M1KIT_REQUIRE_NATIVE === '1';
const outDir = path.join(here, 'build', 'Release');
const t0 = Date.now();

function log(msg) {
  process.stderr.write(`m1kit native build: ${msg}\n`);
}

function loud(msg) {
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n!! m1kit: ${msg}\n!! m1kit falls back to the (much slower) TypeScript reference kernels.\n!! Set M1KIT_REQUIRE_NATIVE=1 to make this an error.\n${bar}\n\n`);
}

/** Environment without npm_config_* (npmrc settings), so node-gyp only sees our explicit flags. */
function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_config_/i.test(k)) env[k] = v;
  return env;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: cleanEnv(), ...opts });
  return r.error ? { ok: false, why: r.error.message } : { ok: r.status === 0, why: `exit code ${r.status}` };
}

function which(cmd) {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8', env: cleanEnv() });
  return !r.error && r.status === 0 ? r.stdout.split('\n').find((l) => l.trim()) ?? cmd : undefined;
}

/** Node's own headers dir root: <prefix> such that <prefix>/include/node/node_api.h exists. */
function nodeDir() {
  const candidates = [path.resolve(path.dirname(process.execPath), '..'), process.config?.variables?.node_prefix, '/usr', '/usr/local'];
  return candidates.find((d) => d && existsSync(path.join(d, 'include', 'node', 'node_api.h')) && existsSync(path.join(d, 'include', 'node', 'common.gypi')));
}

function findNvcc() {
  const cands = [process.env.NVCC, 'nvcc', '/usr/local/cuda/bin/nvcc', '/usr/local/bin/nvcc'].filter(Boolean);
  for (const c of cands) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return { path: c, version: (r.stdout.match(/release [\d.]+, V[\d.]+/) ?? ['unknown'])[0] };
  }
  return undefined;
}

function buildAddon(info) {
  const cxx = process.env.CXX || 'c++';
  const compiler = which(cxx);
  if (!compiler) return `no C++ compiler found (tried "${cxx}")`;
  info.compiler = compiler;
  const dir = nodeDir();
  if (!dir) return `Node headers not found next to ${process.execPath} (need <prefix>/include/node/node_api.h)`;
  info.nodedir = dir;
  let gyp;
  try {
    gyp = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return 'node-gyp is not installed (it is a dependency of m1kit)';
  }
  const jobs = String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
  log(`node-gyp with --nodedir=${dir}, ${jobs} jobs, ${compiler}`);
  const r = run(process.execPath, [gyp, 'rebuild', `--nodedir=${dir}`, '--directory', here, '--jobs', jobs, '--loglevel', 'warn']);
  return r.ok ? undefined : `node-gyp failed (${r.why})`;
}

function buildCuda(info) {
  if (process.env.M1KIT_SKIP_CUDA === '1') return { skipped: 'M1KIT_SKIP_CUDA=1' };
  const nvcc = findNvcc();
  if (!nvcc) return { skipped: 'nvcc not found' };
  info.nvcc = nvcc;
  const srcs = readdirSync(path.join(here, 'cuda')).filter((f) => f.endsWith('.cu')).map((f) => path.join(here, 'cuda', f));
  const lib = path.join(outDir, 'libm1kit_cuda.so');
  mkdirSync(outDir, { recursive: true });
  log(`nvcc ${nvcc.version}: ${srcs.length} sources → ${path.relative(here, lib)} (sm_80, sm_90a, compute_90 PTX, static cudart)`);
  const args = ['-O3', '-std=c++17', '-shared', '-Xcompiler', '-fPIC,-fvisibility=hidden', '-cudart', 'static',
    '-gencode', 'arch=compute_80,code=sm_80', '-gencode', 'arch=compute_90a,code=sm_90a', '-gencode', 'arch=compute_90,code=compute_90',
    '-o', lib, ...srcs];
  const r = run(nvcc.path, args);
  return r.ok ? { lib } : { error: `nvcc failed (${r.why})` };
}

const info = { builtAt: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}` };
const addonErr = buildAddon(info);
info.addon = addonErr ? { built: false, reason: addonErr } : { built: true, path: path.join(outDir, 'm1kit.node') };
const cuda = addonErr ? { skipped: 'addon not built' } : buildCuda(info);
info.cuda = cuda.lib ? { compiled: true, path: cuda.lib } : { compiled: false, reason: cuda.error ?? cuda.skipped };
mkdirSync(path.join(here, 'build'), { recursive: true });
writeFileSync(path.join(here, 'build', 'build-info.json'), JSON.stringify(info, null, 2) + '\n');

const secs = ((Date.now() - t0) / 1000).toFixed(1);
if (addonErr) {
  if (requireNative) {
    log(`FAILED: ${addonErr} (M1KIT_REQUIRE_NATIVE=1)`);
    process.exit(1);
  }
  loud(`native kernels NOT built: ${addonErr}`);
  process.exit(0);
}
if (cuda.error) {
  if (requireNative) {
    log(`FAILED: CUDA library: ${cuda.error} (M1KIT_REQUIRE_NATIVE=1)`);
    process.exit(1);
  }
  log(`warning: CUDA library not built: ${cuda.error}; CPU kernels only`);
}
log(`done in ${secs}s: addon ✓, CUDA library ${cuda.lib ? '✓' : `→ not built (${info.cuda.reason})`}`);
