/**
 * The subject model of `m1kit bench`: the released MiniMax-M1 config (preset data), or any
 * MiniMax-M1-structured config.json given by path (a file, or a checkpoint directory holding one).
 */
import { stat } from 'node:fs/promises';
import { readJsonFile } from '../safetensors/index-json.js';
import { join } from 'node:path';
import { parseConfig } from '../checkpoint/config.js';
import { M1_CONFIG } from '../checkpoint/presets.js';
import type { ArchSpec } from '../arch/spec.js';
import { familyOfConfig } from '../arch/registry.js';

export interface Subject {
  arch: ArchSpec;
  /** "preset:minimax-m1" or the config path, recorded in the result. */
  label: string;
}

/**
 * @example await loadSubject() // the released MiniMax-M1
 * @example await loadSubject('fixtures/tiny') // reads fixtures/tiny/config.json
 */
export async function loadSubject(configPath?: string): Promise<Subject> {
  if (configPath === undefined) {
    const cfg = parseConfig(M1_CONFIG, 'preset minimax-m1');
    return { arch: familyOfConfig(cfg.raw).flops(cfg), label: 'preset:minimax-m1' };
  }
  const file = (await stat(configPath)).isDirectory() ? join(configPath, 'config.json') : configPath;
  const raw = await readJsonFile(file, 'config.json');
  const cfg = parseConfig(raw, file);
  const name = cfg.architectures[0] === 'MiniMaxM1ForCausalLM' || cfg.architectures.length === 0 ? 'MiniMax-M1' : cfg.architectures[0]!;
  return { arch: familyOfConfig(cfg.raw).flops(cfg, { name: `${name} (${file})`, source: file }), label: file };
}
