// Type-level consumer: compiled with tsc against the package's published types (exports → dist/index.d.ts).
import { bench, convert, inspect, quantize, verify, type InspectReport, type RunResult, type CompareResult } from 'm1kit';

const ac = new AbortController();
const report: InspectReport = await inspect('fixtures/tiny', { tp: 8, signal: ac.signal, onProgress: (done: number, total: number) => void [done, total] });
const run: RunResult = await convert('in', 'out', { tp: 2, onProgress: (d, t) => void [d, t] });
const gguf: Record<string, unknown> = await convert('in', 'out.gguf', { to: 'gguf', dtype: 'q8_0' });
const q: RunResult = await quantize('in', 'out', { scheme: 'fp8-block' });
const v: CompareResult = await verify('q', { against: 'in', maxKld: 0.01 });
const pass: boolean = v.pass;
const schema: string = (await bench({ ctx: 2 ** 20 })).schema;
export { report, run, gguf, q, pass, schema };
