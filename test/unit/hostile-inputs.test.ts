/**
 * The guards behind the hostile-input corpus, one by one, at their boundaries: JSON scan (depth,
 * duplicate keys, entry count), strict UTF-8, regular files only, config ranges, the short header
 * length, the runtime's block-FP8 scale tiling, and inspect refusing an empty weight_map.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/checkpoint/config.js';
import { inspectCheckpoint } from '../../src/core/inspect/inspect.js';
import { CONFIG_CAPS, MAX_JSON_DEPTH } from '../../src/core/limits.js';
import { resolveStored } from '../../src/core/formats/decode.js';
import type { WeightSource } from '../../src/core/model/source.js';
import { parseHeader } from '../../src/core/safetensors/header.js';
import { decodeUtf8Strict, parseJsonText, scanJson } from '../../src/core/safetensors/json-guard.js';
import { openRegular, readRegular, regularFilesIn } from '../../src/core/safetensors/regular-file.js';
import { carriedFiles } from '../../src/core/convert/finalize.js';
import { readJsonFile } from '../../src/core/safetensors/index-json.js';
import { smallRawConfig } from './model/helpers.js';
import { REPO } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'm1kit-hostile-units-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? `threw ${(e as Error).name}`;
  }
  return undefined;
}
async function asyncCodeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? `threw ${(e as Error).name}`;
  }
  return undefined;
}

describe('JSON scan before JSON.parse', () => {
  const nested = (d: number) => '['.repeat(d) + ']'.repeat(d);
  it('accepts nesting up to the cap and refuses one level more, and 10^6 levels without a stack overflow', () => {
    expect(codeOf(() => parseJsonText(nested(MAX_JSON_DEPTH), 'f'))).toBeUndefined();
    expect(codeOf(() => parseJsonText(nested(MAX_JSON_DEPTH + 1), 'f'))).toBe('E_JSON');
    expect(codeOf(() => parseJsonText('{"a":'.repeat(1_000_000) + '1' + '}'.repeat(1_000_000), 'f'))).toBe('E_JSON');
  });
  it('refuses duplicate keys at any depth, also when spelled with escapes, and ignores brackets inside strings', () => {
    expect(codeOf(() => scanJson('{"a":1,"b":{"x":1,"x":2}}', 'f'))).toBe('E_JSON');
    expect(codeOf(() => scanJson('{"a":1,"\\u0061":2}', 'f'))).toBe('E_JSON');
    expect(codeOf(() => scanJson('{"a":{"x":1},"b":{"x":1}}', 'f'))).toBeUndefined(); // same key in sibling objects is fine
    expect(scanJson('{"a":"{[\\"{","b":["}"]}', 'f')).toBe(2);
    expect(codeOf(() => scanJson('["a","a"]', 'f'))).toBeUndefined(); // array values are not keys
  });
  it('stops counting top-level keys at the cap', () => {
    expect(codeOf(() => scanJson('{"a":1,"b":2,"c":3}', 'f', { maxTopLevelKeys: 2 }))).toBe('E_JSON');
    expect(scanJson('{"a":1,"b":2}', 'f', { maxTopLevelKeys: 2 })).toBe(2);
  });
  it('decodes strictly: a byte-order mark or an invalid byte is refused', () => {
    expect(decodeUtf8Strict(Buffer.from('{"é":1}'), 'f')).toBe('{"é":1}');
    expect(codeOf(() => decodeUtf8Strict(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), 'f'))).toBe('E_JSON');
    expect(codeOf(() => decodeUtf8Strict(Buffer.from([0x7b, 0xff, 0x7d]), 'f'))).toBe('E_JSON');
  });
});

describe('regular files only', () => {
  it('refuses a FIFO at once (without blocking), a device, a directory and a symlink loop; follows a symlink to a file', async () => {
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(join(tmp, 'dir'));
    symlinkSync('loop', join(tmp, 'loop'));
    writeFileSync(join(tmp, 'real.json'), '{"a":1}');
    symlinkSync('real.json', join(tmp, 'link.json'));
    const t0 = Date.now();
    expect(await asyncCodeOf(openRegular(fifo))).toBe('E_NOT_REGULAR_FILE');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await asyncCodeOf(openRegular('/dev/zero'))).toBe('E_NOT_REGULAR_FILE');
    expect(await asyncCodeOf(openRegular(join(tmp, 'dir')))).toBe('E_NOT_REGULAR_FILE');
    expect(await asyncCodeOf(openRegular(join(tmp, 'loop')))).toBe('E_NOT_REGULAR_FILE');
    expect(await readJsonFile(join(tmp, 'link.json'))).toEqual({ a: 1 });
    expect(await asyncCodeOf(readRegular(join(tmp, 'real.json'), 3))).toBe('E_FILE_TOO_LARGE');
  });
});

describe('files carried over from an input directory', () => {
  it('are its regular files and symlinks to regular files (a HF cache snapshot), never FIFOs, devices or broken links', async () => {
    const dir = join(tmp, 'carry');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tokenizer.json'), '{}');
    writeFileSync(join(dir, 'blob'), '{}');
    symlinkSync('blob', join(dir, 'generation_config.json'));
    execFileSync('mkfifo', [join(dir, 'special_tokens_map.json')]);
    symlinkSync('/dev/zero', join(dir, 'vocab.json'));
    symlinkSync('nowhere', join(dir, 'merges.txt'));
    symlinkSync('loop.txt', join(dir, 'loop.txt'));
    mkdirSync(join(dir, 'sub'));
    expect(await regularFilesIn(dir)).toEqual(['blob', 'generation_config.json', 'tokenizer.json']);
    expect(await carriedFiles(dir)).toEqual(['blob', 'generation_config.json', 'tokenizer.json']);
  });
});

describe('config values are range-checked for the MiniMax-M1 family before anything is sized', () => {
  const base = smallRawConfig();
  it('accepts each cap and refuses one more', () => {
    for (const [key, v] of [['num_local_experts', CONFIG_CAPS.num_local_experts], ['head_dim', CONFIG_CAPS.head_dim], ['vocab_size', CONFIG_CAPS.vocab_size]] as const) {
      const extra = key === 'head_dim' ? { num_attention_heads: 2, num_key_value_heads: 1 } : {};
      expect(codeOf(() => parseConfig({ ...base, ...extra, [key]: v }))).toBeUndefined();
      expect(codeOf(() => parseConfig({ ...base, ...extra, [key]: v + 1 }))).toBe('E_CONFIG');
    }
  });
  it('refuses 2^31 experts, a 4·10^6-entry attn_type_list, wrong types and non-finite or non-positive floats', () => {
    expect(codeOf(() => parseConfig({ ...base, num_local_experts: 2 ** 31 }))).toBe('E_CONFIG');
    const t0 = performance.now();
    expect(codeOf(() => parseConfig({ ...base, attn_type_list: new Array(4_000_000).fill(0) }))).toBe('E_CONFIG');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(codeOf(() => parseConfig({ ...base, tie_word_embeddings: 'false' }))).toBe('E_CONFIG');
    expect(codeOf(() => parseConfig({ ...base, postnorm: 1 }))).toBe('E_CONFIG');
    expect(codeOf(() => parseConfig({ ...base, architectures: 'MiniMaxM1ForCausalLM' }))).toBe('E_CONFIG');
    expect(codeOf(() => parseConfig({ ...base, rope_theta: Infinity }))).toBe('E_CONFIG');
    expect(codeOf(() => parseConfig({ ...base, rms_norm_eps: -1e-5 }))).toBe('E_CONFIG');
    expect(codeOf(() => parseConfig({ ...base, hidden_size: '16' }))).toBe('E_CONFIG');
  });
});

describe('safetensors header', () => {
  it('a length prefix short by one byte is a header error, trailing data bytes stay an offsets error', () => {
    const json = Buffer.from('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}   ');
    const short = json.subarray(0, json.length - 1);
    expect(codeOf(() => parseHeader(short, 8 + json.length + 2, 'x', Buffer.from(' ab')))).toBe('E_SAFETENSORS_HEADER');
    expect(codeOf(() => parseHeader(json, 8 + json.length + 3, 'x', Buffer.from('abc')))).toBe('E_SAFETENSORS_OFFSETS');
  });
  it('refuses a header that starts with a byte-order mark', () => {
    const json = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}')]);
    expect(codeOf(() => parseHeader(json, 8 + json.length + 1, 'x'))).toBe('E_SAFETENSORS_HEADER');
  });
});

describe('runtime block-FP8 scales are tiled as declared, never guessed', () => {
  function source(blockSize: number, scaleShape: number[]): WeightSource {
    const config = parseConfig(smallRawConfig({ quantization_config: { quant_method: 'fp8', weight_block_size: [blockSize, blockSize] } }));
    const tensors = new Map<string, { dtype: 'F8_E4M3' | 'F32'; shape: number[] }>([
      ['w.weight', { dtype: 'F8_E4M3', shape: [384, 96] }],
      ['w.weight_scale_inv', { dtype: 'F32', shape: scaleShape }],
    ]);
    return {
      config,
      has: (n) => tensors.has(n),
      info: (n) => tensors.get(n)!,
      read: async (n) => new Uint8Array(tensors.get(n)!.shape.reduce((a, b) => a * b, 1) * (n.endsWith('scale_inv') ? 4 : 1)),
    };
  }
  it('refuses a [1, 3] scale for a 384×96 weight in 128-blocks (expected [3, 1])', async () => {
    const src = source(128, [1, 3]);
    expect(await asyncCodeOf(resolveStored(src, 'w.weight', src.config.raw.quantization_config))).toBe('E_QUANT_SHAPE');
  });
  it('uses the declared 64-block for the columns (96 → 2 blocks of 64, not 2 of 48)', async () => {
    const src = source(64, [6, 2]);
    const t = await resolveStored(src, 'w.weight', src.config.raw.quantization_config);
    expect(t.group).toBe(64);
  });
});

describe('inspect refuses a structurally broken index instead of reporting it complete', () => {
  it('an empty weight_map is E_INDEX, even without --strict', async () => {
    const dir = join(tmp, 'empty-map');
    cpSync(join(REPO, 'fixtures', 'tiny'), dir, { recursive: true });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: {} }));
    expect(await asyncCodeOf(inspectCheckpoint({ dir, tp: 1, ep: 1, ctx: 1024 }))).toBe('E_INDEX');
  });
});
