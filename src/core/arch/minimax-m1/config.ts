/**
 * Typed MiniMax-M1 configuration, parsed from a HF `config.json` in either schema of config-keys.ts (the
 * original remote-code field names or the transformers-native `-hf` ones: `layer_types`,
 * `linear_attn_alpha_factor`, …). Pure: no I/O.
 */
import { InputError } from '../../errors.js';
import { CONFIG_CAPS, MAX_ATTENTION_WIDTH, MAX_TENSORS_PER_CHECKPOINT } from '../../limits.js';
import { ALIASED_KEYS, LAYER_KIND_KEYS, LAYER_TYPE_VALUES, type AttnType } from './config-keys.js';

export type { AttnType };

export interface M1Config {
  architectures: string[];
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  attnTypes: AttnType[];
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rotaryDim: number;
  ropeTheta: number;
  intermediateSize: number;
  numExperts: number;
  expertsPerTok: number;
  sharedIntermediateSize: number;
  postnorm: boolean;
  linearAlpha: number;
  linearBeta: number;
  fullAlpha: number;
  fullBeta: number;
  mlpAlpha: number;
  mlpBeta: number;
  rmsNormEps: number;
  /** eps of the lightning-attention inner RMSNorm (official HF code: 1e-6, not rms_norm_eps). */
  lightningNormEps: number;
  /** Lightning block size (module constant 256 in the official code; vLLM reads optional `block`). */
  blockSize: number;
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  /** The raw JSON object, kept so converters can carry it over unchanged. */
  raw: Record<string, unknown>;
}

const num = (raw: Record<string, unknown>, file: string, key: string, fallback?: number): number => {
  const v = raw[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new InputError('E_CONFIG', `${file}: missing field "${key}"`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError('E_CONFIG', `${file}: field "${key}" must be a finite number, got ${typeof v === 'number' ? String(v) : JSON.stringify(v).slice(0, 40)}`);
  return v;
};
/** An integer field in [min, CONFIG_CAPS[key]] (the MiniMax-M1 family's range, see limits.ts). */
const posInt = (raw: Record<string, unknown>, file: string, key: keyof typeof CONFIG_CAPS, fallback?: number, min = 1): number => {
  const v = num(raw, file, key, fallback);
  const max = CONFIG_CAPS[key];
  if (!Number.isInteger(v) || v < min || v > max) throw new InputError('E_CONFIG', `${file}: field "${key}" must be an integer in [${min}, ${max}] for a MiniMax-M1-family model, got ${v}`);
  return v;
};
/** A finite number field that must be > 0 (and < `below` when given). */
const positive = (raw: Record<string, unknown>, file: string, key: string, fallback: number, below?: number): number => {
  const v = num(raw, file, key, fallback);
  if (!(v > 0) || (below !== undefined && !(v < below))) throw new InputError('E_CONFIG', `${file}: field "${key}" must be > 0${below !== undefined ? ` and < ${below}` : ''}, got ${v}`);
  return v;
};
/** A boolean field (absent → fallback); a string such as "false" is refused rather than read as true. */
const bool = (raw: Record<string, unknown>, file: string, key: string, fallback: boolean): boolean => {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new InputError('E_CONFIG', `${file}: field "${key}" must be true or false, got ${JSON.stringify(v).slice(0, 40)}`);
  return v;
};
const firstDefined = (raw: Record<string, unknown>, keys: string[]): string | undefined => keys.find((k) => raw[k] !== undefined && raw[k] !== null);

/**
 * Parse and validate a MiniMax-M1 config object.
 * @example parseConfig(JSON.parse(fs.readFileSync('config.json', 'utf8')), 'config.json')
 */
export function parseConfig(raw: unknown, file = 'config.json'): M1Config {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError('E_CONFIG', `${file}: expected a JSON object`);
  const r = raw as Record<string, unknown>;
  const numLayers = posInt(r, file, 'num_hidden_layers');
  const [listKey, typesKey] = LAYER_KIND_KEYS;
  for (const key of LAYER_KIND_KEYS) {
    const list = r[key];
    if (Array.isArray(list) && list.length !== numLayers) throw new InputError('E_CONFIG', `${file}: ${key} has ${list.length} entries, expected num_hidden_layers = ${numLayers}`);
    if (list !== undefined && list !== null && !Array.isArray(list)) throw new InputError('E_CONFIG', `${file}: field "${key}" must be an array, got ${JSON.stringify(list).slice(0, 40)}`);
  }
  let attnTypes: AttnType[];
  const list = r[listKey];
  const types = r[typesKey];
  if (Array.isArray(list)) {
    attnTypes = list.map((v, i) => {
      if (v !== 0 && v !== 1) throw new InputError('E_CONFIG', `${file}: ${listKey}[${i}] must be 0 or 1, got ${JSON.stringify(v)}`);
      return v;
    });
  } else if (Array.isArray(types)) {
    const names = Object.keys(LAYER_TYPE_VALUES);
    attnTypes = types.map((v, i) => {
      const t = typeof v === 'string' && Object.hasOwn(LAYER_TYPE_VALUES, v) ? LAYER_TYPE_VALUES[v] : undefined;
      if (t === undefined) throw new InputError('E_CONFIG', `${file}: ${typesKey}[${i}] must be ${names.map((n) => `"${n}"`).join(' or ')}, got ${JSON.stringify(v)}`);
      return t;
    });
  } else {
    throw new InputError('E_CONFIG', `${file}: missing field "${listKey}" (or "${typesKey}")`);
  }
  if (attnTypes.length !== numLayers) throw new InputError('E_CONFIG', `${file}: ${listKey} has ${attnTypes.length} entries, expected num_hidden_layers = ${numLayers}`);
  const hiddenSize = posInt(r, file, 'hidden_size');
  const numHeads = posInt(r, file, 'num_attention_heads');
  const headDim = posInt(r, file, 'head_dim', hiddenSize / numHeads);
  if (numHeads * headDim > MAX_ATTENTION_WIDTH) throw new InputError('E_CONFIG', `${file}: num_attention_heads × head_dim = ${numHeads * headDim} exceeds the cap of ${MAX_ATTENTION_WIDTH} for a MiniMax-M1-family model`);
  const numKvHeads = posInt(r, file, 'num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) throw new InputError('E_CONFIG', `${file}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  const rotaryDim = posInt(r, file, 'rotary_dim', headDim);
  if (rotaryDim > headDim || rotaryDim % 2 !== 0) throw new InputError('E_CONFIG', `${file}: rotary_dim (${rotaryDim}) must be even and ≤ head_dim (${headDim})`);
  const alias = (field: keyof typeof ALIASED_KEYS) => firstDefined(r, [...ALIASED_KEYS[field]]) ?? ALIASED_KEYS[field][0];
  const numExperts = posInt(r, file, 'num_local_experts');
  const expertsPerTok = posInt(r, file, 'num_experts_per_tok');
  if (expertsPerTok > numExperts) throw new InputError('E_CONFIG', `${file}: num_experts_per_tok (${expertsPerTok}) exceeds num_local_experts (${numExperts})`);
  const impliedTensors = numLayers * (3 * numExperts + 9) + 3;
  if (impliedTensors > MAX_TENSORS_PER_CHECKPOINT) throw new InputError('E_CONFIG', `${file}: ${numLayers} layers × ${numExperts} experts imply ${impliedTensors} tensors, more than the cap of ${MAX_TENSORS_PER_CHECKPOINT}`);
  const archField = r.architectures;
  if (archField !== undefined && archField !== null && !(Array.isArray(archField) && archField.every((a) => typeof a === 'string'))) {
    throw new InputError('E_CONFIG', `${file}: field "architectures" must be an array of strings, got ${JSON.stringify(archField).slice(0, 60)}`);
  }
  const archs = (archField ?? []) as string[];
  return {
    architectures: archs,
    vocabSize: posInt(r, file, 'vocab_size'),
    hiddenSize,
    numLayers,
    attnTypes,
    numHeads,
    numKvHeads,
    headDim,
    rotaryDim,
    ropeTheta: positive(r, file, 'rope_theta', 10000),
    intermediateSize: posInt(r, file, 'intermediate_size'),
    numExperts,
    expertsPerTok,
    sharedIntermediateSize: posInt(r, file, 'shared_intermediate_size', 0, 0),
    postnorm: bool(r, file, 'postnorm', true),
    linearAlpha: num(r, file, alias('linearAlpha'), 1),
    linearBeta: num(r, file, alias('linearBeta'), 1),
    fullAlpha: num(r, file, alias('fullAlpha'), 1),
    fullBeta: num(r, file, alias('fullBeta'), 1),
    mlpAlpha: num(r, file, alias('mlpAlpha'), 1),
    mlpBeta: num(r, file, alias('mlpBeta'), 1),
    rmsNormEps: positive(r, file, 'rms_norm_eps', 1e-5),
    lightningNormEps: positive(r, file, 'lightning_norm_eps', 1e-6),
    blockSize: posInt(r, file, 'block', 256),
    tieWordEmbeddings: bool(r, file, 'tie_word_embeddings', false),
    maxPositionEmbeddings: posInt(r, file, 'max_position_embeddings', 4096),
    raw: r,
  };
}

/** Indices of softmax-attention layers. */
export const softmaxLayers = (c: M1Config): number[] => c.attnTypes.flatMap((t, i) => (t === 1 ? [i] : []));
/** Indices of lightning-attention layers. */
export const lightningLayers = (c: M1Config): number[] => c.attnTypes.flatMap((t, i) => (t === 0 ? [i] : []));
