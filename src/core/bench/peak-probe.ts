/**
 * Worker module of the portable peak probes (peak.ts runs one per thread): `prepare` builds the probe
 * (instantiates the wasm multiply-add loop and sizes its iteration count to ≈ 20 ms, or fills the two
 * copy buffers), `run` loops it for the given seconds and reports the work done and its own clock's span.
 */
import { serve } from '../worker/serve.js';

export interface ProbeSetup {
  kind: 'fma' | 'copy';
  /** The multiply-add module (wasm-fma.ts), for 'fma'. */
  wasm?: Uint8Array | undefined;
  /** Bytes of each copy buffer, for 'copy'. */
  bytes: number;
}

/** Work units (FMA iterations or bytes) done between t0 and t1 (ms, this thread's clock). */
export interface ProbeRun {
  work: number;
  t0: number;
  t1: number;
}

/** Iterations calibrated once the loop takes longer than this (ms). */
const CALIBRATE_MS = 20;

let probe: ((seconds: number) => ProbeRun) | undefined;

interface FmaExports {
  run(iters: number): void;
}

/** The part of the WebAssembly global used here (the compiler's lib has no DOM/wasm types). */
declare const WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (m: object) => { exports: unknown } };

function prepareFma(wasm: Uint8Array): (seconds: number) => ProbeRun {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(wasm));
  const { run } = exports as unknown as FmaExports;
  let iters = 1e5;
  run(iters);
  for (;;) {
    const s = performance.now();
    run(iters);
    if (performance.now() - s > CALIBRATE_MS) break;
    iters *= 2;
  }
  return (seconds) => {
    let work = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      run(iters);
      work += iters;
    }
    return { work, t0, t1: performance.now() };
  };
}

function prepareCopy(bytes: number): (seconds: number) => ProbeRun {
  const n = bytes / 8;
  const a = new Float64Array(n).fill(1);
  const b = new Float64Array(n);
  b.set(a);
  a.set(b);
  return (seconds) => {
    let work = 0;
    let flip = false;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      (flip ? a : b).set(flip ? b : a);
      flip = !flip;
      work += 2 * bytes;
    }
    return { work, t0, t1: performance.now() };
  };
}

export const peakProbe = {
  prepare(s: ProbeSetup): void {
    if (s.kind === 'fma' && !s.wasm) throw new Error('the fma probe needs its wasm module');
    probe = s.kind === 'fma' ? prepareFma(s.wasm!) : prepareCopy(s.bytes);
  },
  run(seconds: number): ProbeRun {
    if (!probe) throw new Error('run before prepare');
    return probe(seconds);
  },
};

export type PeakProbe = typeof peakProbe;

serve(peakProbe);
