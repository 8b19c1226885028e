/**
 * Finish an output directory once every planned weight file exists: one index per directory, config.json
 * (top level and in each rank directory), the input's non-weight files, `m1kit-layout.json` for
 * non-HF layouts, then `m1kit-manifest.json` (sha256 of every weight file) last, and the resumption state
 * is removed. Every step is idempotent and atomic, so parts racing to finalize produce the same bytes.
 */
import { copyFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { dtypeBytes, numel } from '../dtype/dtypes.js';
import { InputError } from '../errors.js';
import { writing } from '../fs/write-errors.js';
import { INDEX_FILE, writeIndex } from '../safetensors/index-json.js';
import { regularFilesIn } from '../safetensors/regular-file.js';
import { jobTensors } from '../pipeline/jobs.js';
import { filePath, type Plan } from '../pipeline/plan.js';
import { LAYOUT_FILE, type LayoutMeta } from '../view/source.js';
import { MANIFEST_FILE, removeState, STATE_DIR, writeJsonAtomic, type DoneRecord, type Manifest, type TensorError } from './state.js';

const NOT_CARRIED = new Set([INDEX_FILE, 'config.json', MANIFEST_FILE, LAYOUT_FILE]);

/** Non-weight regular files at the top of an input directory (tokenizer, generation config, custom code, …). */
export async function carriedFiles(inputDir: string): Promise<string[]> {
  return (await regularFilesIn(inputDir)).filter((n) => !n.endsWith('.safetensors') && !n.endsWith('.incomplete') && !n.startsWith('.') && !NOT_CARRIED.has(n));
}

export interface FinalizeParams {
  input: string;
  output: string;
  plan: Plan;
  done: Map<string, DoneRecord>;
  kind: string;
  planHash: string;
  config: Record<string, unknown>;
  layout?: LayoutMeta | undefined;
}

export async function finalizeOutput(p: FinalizeParams): Promise<Manifest> {
  const missing = p.plan.files.filter((f) => !p.done.has(filePath(f)));
  if (missing.length > 0) {
    throw new InputError('E_PARTS_MISSING', `${p.output}: ${missing.length} of ${p.plan.files.length} weight files are not finished yet (first: ${filePath(missing[0]!)}); run the missing --part jobs first`);
  }
  for (const d of p.plan.dirs) {
    const weightMap = new Map<string, string>();
    let total = 0;
    for (const f of d.files) {
      for (const s of f.jobs.flatMap(jobTensors)) {
        weightMap.set(s.name, f.name);
        total += numel(s.shape) * dtypeBytes(s.dtype);
      }
    }
    await writing(join(p.output, d.dir, INDEX_FILE), () => writeIndex(join(p.output, d.dir, INDEX_FILE), weightMap, total));
    await writeJsonAtomic(join(p.output, d.dir, 'config.json'), p.config);
  }
  for (const name of await carriedFiles(p.input)) {
    const tmp = join(p.output, `${name}.${process.pid}.incomplete`);
    await writing(join(p.output, name), async () => {
      await copyFile(join(p.input, name), tmp);
      await rename(tmp, join(p.output, name));
    });
  }
  if (p.layout) await writeJsonAtomic(join(p.output, LAYOUT_FILE), p.layout);
  const errors: TensorError[] = p.plan.files.flatMap((f) => p.done.get(filePath(f))!.errors ?? []);
  const manifest: Manifest = {
    tool: 'm1kit',
    kind: p.kind,
    planHash: p.planHash,
    files: p.plan.files.map((f) => {
      const r = p.done.get(filePath(f))!;
      return { file: r.file, size: r.size, sha256: r.sha256 };
    }),
  };
  if (errors.length > 0) manifest.errors = errors;
  await writeJsonAtomic(join(p.output, MANIFEST_FILE), manifest);
  await removeState(p.output);
  return manifest;
}

export { STATE_DIR };
