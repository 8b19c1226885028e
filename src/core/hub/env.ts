/**
 * Hub settings from the environment, following huggingface_hub's variables:
 * HF_ENDPOINT (mirror), HF_TOKEN / HUGGING_FACE_HUB_TOKEN / $HF_HOME/token, HF_HUB_CACHE /
 * HUGGINGFACE_HUB_CACHE / HF_HOME / XDG_CACHE_HOME, HF_HUB_OFFLINE.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubSettings {
  /** Origin (+ optional path prefix) of the hub, without a trailing slash. */
  endpoint: string;
  /** Bearer token; any format is accepted (mirrors use their own). Never printed. */
  token?: string;
  /** Hugging Face hub cache directory (`…/huggingface/hub`). */
  cacheDir: string;
  /** True when HF_HUB_OFFLINE asks for no network access. */
  offline: boolean;
}

type Env = Record<string, string | undefined>;

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v.trim() : undefined;
}

/** Hugging Face home (`$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`). */
export function hfHome(env: Env = process.env): string {
  return nonEmpty(env.HF_HOME) ?? join(nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache'), 'huggingface');
}

/** Hub cache directory as huggingface_hub and @huggingface/hub resolve it. */
export function hubCacheDir(env: Env = process.env): string {
  return nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? join(hfHome(env), 'hub');
}

/** Validate and normalise an endpoint URL (http or https, no trailing slash). */
export function normalizeEndpoint(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new InputError('E_BAD_ENDPOINT', `endpoint "${raw}" is not a URL`, { hint: 'expected e.g. https://hf-mirror.com' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new InputError('E_BAD_ENDPOINT', `endpoint "${raw}" must use http or https, got ${u.protocol}`);
  }
  if (u.username || u.password) {
    throw new InputError('E_BAD_ENDPOINT', 'endpoint must not carry credentials; put the token in HF_TOKEN');
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

function readTokenFile(env: Env): string | undefined {
  const file = nonEmpty(env.HF_TOKEN_PATH) ?? join(hfHome(env), 'token');
  try {
    return nonEmpty(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Settings for hub access. Explicit values (command-line flags) win over the environment.
 * @example hubSettings(process.env, { endpoint: 'https://hf-mirror.com' })
 */
export function hubSettings(env: Env = process.env, explicit: { endpoint?: string; cacheDir?: string } = {}): HubSettings {
  const endpoint = normalizeEndpoint(explicit.endpoint ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT);
  const token = nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN) ?? readTokenFile(env);
  const offline = ['1', 'on', 'yes', 'true'].includes((env.HF_HUB_OFFLINE ?? '').trim().toLowerCase());
  const s: HubSettings = { endpoint, cacheDir: explicit.cacheDir ?? hubCacheDir(env), offline };
  if (token !== undefined) s.token = token;
  return s;
}

/** Replace every occurrence of the token in a message (belt and braces for server-echoed text). */
export function redactToken(text: string, token: string | undefined): string {
  if (!token || token.length < 4) return text;
  return text.split(token).join('***');
}
