/**
 * Whether the llama.cpp engine (node-llama-cpp, a devDependency that `npm ci` installs) is importable.
 * Tests that need it call `skipWithoutLlama` in a beforeEach: a missing engine skips them with the reason
 * as the skip note (the skip summary prints it at the end of the run), or fails them when
 * M1KIT_REQUIRE_LLAMA=1 (CI), so a run can never pass silently without them.
 */
import type { TestContext } from 'vitest';

async function probe(): Promise<string | undefined> {
  try {
    await import('node-llama-cpp');
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/** Why node-llama-cpp cannot be imported; undefined when it can. */
export const LLAMA_MISSING = await probe();

export const LLAMA_SKIP_NOTE = `node-llama-cpp is not installed (${LLAMA_MISSING}): run npm ci (it is a devDependency)`;

/** beforeEach hook: skip the test with the reason, or fail it under M1KIT_REQUIRE_LLAMA=1. */
export function skipWithoutLlama(ctx: TestContext): void {
  if (LLAMA_MISSING === undefined) return;
  if (process.env.M1KIT_REQUIRE_LLAMA === '1') throw new Error(`M1KIT_REQUIRE_LLAMA=1 but ${LLAMA_SKIP_NOTE}`);
  ctx.skip(LLAMA_SKIP_NOTE);
}
