/**
 * Quantization recipes: which modules of a checkpoint are quantized, with which scheme. A recipe is a
 * YAML or JSON file (`quantize --recipe file.yaml`):
 *
 *   group_size: 32                       # optional (schemes whose group is configurable)
 *   rules:                               # first match wins; a module no rule matches stays as it is
 *     - match: "model.layers.*.block_sparse_moe.experts.*.*"
 *       scheme: w4a16
 *     - match: "re:model\\.layers\\.(0|1)\\.self_attn\\."
 *       scheme: none                     # keep these unquantized
 *   ignore: ["model.layers.79.**"]       # optional, added to the default ignore list
 *
 * Patterns are matched against HF module names (`model.layers.3.self_attn.qkv_proj`) and their weight
 * names (`….weight`): a glob matches the whole name, `*` within one dot-separated part, `**` across
 * parts, `?` one character; `re:` is a JavaScript regular expression anchored at the start (as
 * compressed-tensors' `re.match`). The default ignore list (router gates, norms, embeddings, `lm_head`,
 * the lightning attention `norm`) keeps modules a rule matches unquantized unless `force` is given,
 * which lets embeddings and `lm_head` through; router gates stay F32 even then (m1kit's checks and the
 * engines' loaders read routers in float), and modules that are not matrices (norms) are never quantized. `--scheme S --targets T` is the built-in
 * recipe `builtinRecipe(S, T)`. One scheme per checkpoint: its `quantization_config` describes one format.
 */
import { parse as parseYaml } from 'yaml';
import { readRegular } from '../safetensors/regular-file.js';
import type { M1Config } from '../checkpoint/config.js';
import { expectedTensors } from '../checkpoint/layout.js';
import { classify, type Role } from '../arch/minimax-m1/tensors.js';
import { InputError } from '../errors.js';
import { findFormat, SCHEME_IDS, type SchemeId } from '../formats/index.js';
import type { Targets } from './targets.js';

export interface RecipeRule {
  /** Glob or `re:` pattern, as written. */
  match: string;
  /** Registry id, or null to keep matching modules unquantized. */
  scheme: SchemeId | null;
}

export interface Recipe {
  /** Where the recipe came from (its file, or `--scheme …` for the built-in one), for messages. */
  source: string;
  rules: RecipeRule[];
  /** Patterns kept unquantized besides the default ignore list. */
  ignore: string[];
  groupSize?: number | undefined;
}

/** Roles never quantized unless forced: router gates, embeddings, the LM head, every norm. */
export const DEFAULT_IGNORE: ReadonlyMap<Role, string> = new Map<Role, string>([
  ['router', 'router gate'],
  ['embed', 'embeddings'],
  ['lm_head', 'lm_head'],
  ['final_norm', 'norm'],
  ['input_norm', 'norm'],
  ['post_norm', 'norm'],
  ['attn_norm', 'lightning attention norm'],
]);

const EXPERTS_GLOB = 'model.layers.*.block_sparse_moe.experts.*.*';
const ATTENTION_RE = 're:model\\.layers\\.\\d+\\.self_attn\\.(qkv_proj|output_gate|out_proj|q_proj|k_proj|v_proj|o_proj)$';

/** `--scheme S --targets T` as a recipe. */
export function builtinRecipe(scheme: SchemeId, targets: Targets, groupSize?: number): Recipe {
  const rules: RecipeRule[] = [];
  if (targets !== 'attention') rules.push({ match: EXPERTS_GLOB, scheme });
  if (targets !== 'experts') rules.push({ match: ATTENTION_RE, scheme });
  return { source: `--scheme ${scheme} --targets ${targets}`, rules, ignore: [], groupSize };
}

const escapeRe = (s: string): string => s.replace(/[.+^${}()|[\]\\]/g, '\\$&');

/** A pattern as a predicate over names (throws with `where` for a malformed one). */
export function compilePattern(p: string, where: string): (name: string) => boolean {
  if (p.startsWith('re:')) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${p.slice(3)})`);
    } catch (e) {
      throw new InputError('E_RECIPE', `${where}: "${p}" is not a valid regular expression (${(e as Error).message})`);
    }
    return (n) => re.test(n);
  }
  if (p === '') throw new InputError('E_RECIPE', `${where}: empty pattern`);
  const body = p
    .split('**')
    .map((part) => part.split('*').map((x) => x.split('?').map(escapeRe).join('[^.]')).join('[^.]*'))
    .join('.*');
  const re = new RegExp(`^${body}$`);
  return (n) => re.test(n);
}

const rec = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parse a recipe file's text (YAML, of which JSON is a subset). Every problem is one line naming `file`.
 * @example parseRecipe('rules:\n  - match: "**.w1"\n    scheme: fp8-block\n', 'r.yaml').rules[0].scheme // 'fp8-block'
 */
export function parseRecipe(text: string, file: string): Recipe {
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true });
  } catch (e) {
    throw new InputError('E_RECIPE', `${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'} (${String((e as Error).message).split('\n')[0]})`, { file });
  }
  const bad = (msg: string): never => {
    throw new InputError('E_RECIPE', `${file}: ${msg}`, { file });
  };
  if (!rec(doc)) bad('expected a mapping with "rules" (and optionally "ignore", "group_size")');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!['rules', 'ignore', 'group_size'].includes(k)) bad(`unknown key "${k}" (expected rules, ignore, group_size)`);
  const schemeOf = (v: unknown, where: string): SchemeId | null => {
    if (v === 'none' || v === null) return null;
    if (typeof v !== 'string' || !findFormat(v)) bad(`${where}: scheme ${JSON.stringify(v)} is not one of ${SCHEME_IDS.join(', ')}, none`);
    return v as SchemeId;
  };
  const rules: RecipeRule[] = [];
  if (Array.isArray(d.rules)) {
    d.rules.forEach((r, i) => {
      const where = `rules[${i}]`;
      if (!rec(r)) bad(`${where}: expected { match, scheme }`);
      const x = r as Record<string, unknown>;
      for (const k of Object.keys(x)) if (k !== 'match' && k !== 'scheme') bad(`${where}: unknown key "${k}" (expected match, scheme)`);
      if (typeof x.match !== 'string') bad(`${where}: "match" must be a string pattern`);
      if (!('scheme' in x)) bad(`${where}: "scheme" is missing`);
      rules.push({ match: x.match as string, scheme: schemeOf(x.scheme, where) });
    });
  } else if (rec(d.rules)) {
    for (const [match, s] of Object.entries(d.rules)) rules.push({ match, scheme: schemeOf(s, `rules["${match}"]`) });
  } else {
    bad('"rules" must be a list of { match, scheme } or a mapping pattern → scheme');
  }
  if (rules.length === 0) bad('"rules" is empty');
  for (const [i, r] of rules.entries()) compilePattern(r.match, `${file}: rules[${i}]`);
  const ignore = d.ignore ?? [];
  if (!Array.isArray(ignore) || !ignore.every((x) => typeof x === 'string')) bad('"ignore" must be a list of patterns');
  for (const p of ignore as string[]) compilePattern(p, `${file}: ignore`);
  const g = d.group_size;
  if (g !== undefined && !(Number.isInteger(g) && (g as number) > 0)) bad(`"group_size" must be a positive integer, got ${JSON.stringify(g)}`);
  return { source: file, rules, ignore: ignore as string[], groupSize: g as number | undefined };
}

/** Largest recipe file read (a recipe is a few rules; this only bounds memory on a wrong path). */
export const MAX_RECIPE_BYTES = 1024 * 1024;

/** Read and parse a recipe file (`.json`, or YAML for any other name). */
export async function loadRecipe(file: string): Promise<Recipe> {
  const buf = await readRegular(file, MAX_RECIPE_BYTES, 'a recipe file (YAML or JSON)');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new InputError('E_RECIPE', `${file}: not UTF-8 text`, { file });
  }
  return parseRecipe(text, file);
}

/** What a recipe selects on one model. */
export interface Selection {
  scheme: SchemeId;
  /** HF module names quantized. */
  modules: ReadonlySet<string>;
  /** Modules a rule matched that the ignore lists kept unquantized (quantized with `force` instead, see `forced`). */
  ignored: string[];
  /** Default-ignored modules quantized because of `force`. */
  forced: string[];
}

/**
 * Apply `recipe` to the modules of the model `c` describes. A rule matching no module, a recipe naming
 * two schemes, or none, is an InputError naming the recipe.
 */
export function selectModules(recipe: Recipe, c: M1Config, o: { force?: boolean } = {}): Selection {
  const where = recipe.source;
  const rules = recipe.rules.map((r, i) => ({ ...r, i, test: compilePattern(r.match, `${where}: rules[${i}]`), hits: 0 }));
  const extra = recipe.ignore.map((p) => compilePattern(p, `${where}: ignore`));
  const schemes = [...new Set(rules.map((r) => r.scheme).filter((s): s is SchemeId => s !== null))];
  if (schemes.length === 0) throw new InputError('E_RECIPE', `${where}: no rule names a scheme (every rule is "none")`);
  if (schemes.length > 1) throw new InputError('E_RECIPE', `${where}: rules name ${schemes.join(' and ')}; m1kit writes one scheme per checkpoint (its quantization_config describes one format)`);
  const modules = new Set<string>();
  const ignored: string[] = [];
  const forced: string[] = [];
  const extraKept = new Set<string>();
  for (const t of expectedTensors(c)) {
    const info = classify(t.name);
    if (!info) continue;
    const names = [info.module, t.name];
    const rule = rules.find((r) => names.some((n) => r.test(n)));
    if (!rule) continue;
    rule.hits++;
    if (rule.scheme === null) continue;
    if (t.shape.length !== 2) continue; // norms: not a matrix, never quantized
    const byDefault = DEFAULT_IGNORE.has(info.role);
    if (byDefault || extra.some((x) => names.some((n) => x(n)))) {
      if (byDefault && o.force && info.role === 'router') {
        throw new InputError('E_RECIPE', `${where}: rules[${rule.i}] "${rule.match}" matches the router gate ${info.module}, which stays F32 even with --force (m1kit's checks and the engines' loaders read routers in float); narrow the pattern`);
      }
      if (byDefault && o.force) forced.push(info.module);
      else {
        ignored.push(info.module);
        if (!byDefault) extraKept.add(info.module);
        continue;
      }
    }
    modules.add(info.module);
  }
  const unused = rules.find((r) => r.hits === 0);
  if (unused) throw new InputError('E_RECIPE', `${where}: rules[${unused.i}] "${unused.match}" matches no module of this model (patterns match HF names such as model.layers.0.self_attn.qkv_proj)`);
  if (modules.size === 0) throw new InputError('E_RECIPE', `${where}: quantizes no module: the ignore lists keep every matrix its rules match (${ignored.slice(0, 3).join(', ')}${ignored.length > 3 ? ', …' : ''})${ignored.some((m) => !extraKept.has(m)) ? '; --force quantizes embeddings and lm_head' : ''}`);
  return { scheme: schemes[0]!, modules, ignored, forced };
}

/** What `quantize` is asked for: `--scheme/--targets/--group-size`, or a recipe (with `force` for ignored modules). */
export interface QuantRequest {
  scheme?: SchemeId | undefined;
  targets?: Targets | undefined;
  group?: number | undefined;
  recipe?: Recipe | undefined;
  /** Quantize default-ignored modules a recipe rule matches. */
  forceIgnored?: boolean | undefined;
}

/** A request applied to a model: the scheme, its group and the modules it quantizes. */
export interface ResolvedQuant extends Selection {
  group: number;
  recipe: Recipe;
}

/** Resolve `q` on the model `c` (the built-in recipe when no recipe is given). */
export function resolveQuant(q: QuantRequest, c: M1Config): ResolvedQuant {
  if (!q.recipe && q.scheme === undefined) throw new InputError('E_RECIPE', 'quantize needs a scheme or a recipe');
  const recipe = q.recipe ?? builtinRecipe(q.scheme!, q.targets ?? 'all', q.group);
  const sel = selectModules(recipe, c, { force: q.forceIgnored ?? false });
  const f = findFormat(sel.scheme)!;
  const asked = q.group ?? recipe.groupSize;
  if (asked !== undefined && !f.groupOption) throw new InputError('E_RECIPE', `${recipe.source}: a group size applies to ${SCHEME_IDS.filter((id) => findFormat(id)!.groupOption).join(', ')} only, not ${f.id}`);
  return { ...sel, group: asked ?? f.defaultGroup, recipe };
}

/** The `recipe` part of a quantize result. */
export interface RecipeReport {
  source: string;
  scheme: SchemeId;
  group: number;
  /** Modules quantized. */
  modules: number;
  /** Modules a rule matched that the ignore lists kept unquantized. */
  ignored: string[];
  /** Default-ignored modules quantized with --force. */
  forced: string[];
}

export const recipeReport = (q: ResolvedQuant): RecipeReport => ({ source: q.recipe.source, scheme: q.scheme, group: q.group, modules: q.modules.size, ignored: q.ignored, forced: q.forced });
