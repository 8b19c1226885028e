/**
 * Parsers for convert/quantize option values (pure; throw UsageError with the accepted forms).
 */
import type { DType } from '../dtype/dtypes.js';
import { UsageError } from '../errors.js';
import { GGUF_DTYPES, type GgufDtype } from '../gguf/minimax01.js';
import { EXPERTS_LAYOUTS, type ExpertsLayout } from '../pipeline/jobs.js';

/** "2/8" → { index: 2, count: 8 } (1-based index). */
export function parsePart(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--part expects i/N with 1 ≤ i ≤ N (e.g. 3/8), got "${v}"`);
  return { index, count };
}

const SAFETENSORS_DTYPES: Record<string, DType> = { bf16: 'BF16', fp16: 'F16', f16: 'F16', fp32: 'F32', f32: 'F32' };

/** --dtype for safetensors output: bf16 | fp16 | fp32 (f16/f32 accepted). */
export function parseSafetensorsDtype(v: string): DType {
  const d = SAFETENSORS_DTYPES[v.toLowerCase()];
  if (!d) throw new UsageError(`--dtype for safetensors output must be bf16, fp16 or fp32; got "${v}"`);
  return d;
}

/** --dtype for GGUF output: f32 | f16 | bf16 | q8_0 | q4_0 (fp16/fp32 accepted). */
export function parseGgufDtype(v: string): GgufDtype {
  const d = ({ fp16: 'f16', fp32: 'f32' } as Record<string, string>)[v.toLowerCase()] ?? v.toLowerCase();
  if (!(GGUF_DTYPES as readonly string[]).includes(d)) throw new UsageError(`--dtype for gguf output must be one of ${GGUF_DTYPES.join(', ')}; got "${v}"`);
  return d as GgufDtype;
}

export function parseExperts(v: string): ExpertsLayout {
  if ((EXPERTS_LAYOUTS as string[]).includes(v)) return v as ExpertsLayout;
  throw new UsageError(`--experts must be one of ${EXPERTS_LAYOUTS.join(', ')}; got "${v}"`);
}
