import { describe, expect, it, vi } from 'vitest';

// Simulate a machine without the optional package: the import fails the way Node reports a missing module.
vi.mock('node-llama-cpp', () => {
  throw Object.assign(new Error("Cannot find package 'node-llama-cpp'"), { code: 'ERR_MODULE_NOT_FOUND' });
});

describe('llamaCppLogits without node-llama-cpp', () => {
  it('throws E_LLAMA_MISSING (exit code 5) with the install command as hint', async () => {
    const { llamaCppLogits } = await import('../../../src/core/gguf/engine-llama.js');
    const gguf = new URL('../../../fixtures/tiny/config.json', import.meta.url).pathname; // any existing file: the import fails first
    await expect(llamaCppLogits({ gguf, tokens: [1] })).rejects.toMatchObject({
      code: 'E_LLAMA_MISSING',
      exitCode: 5,
      hint: 'npm install --no-save node-llama-cpp@3.22.1',
    });
  });
  it('checks its inputs before loading the engine', async () => {
    const { llamaCppLogits } = await import('../../../src/core/gguf/engine-llama.js');
    await expect(llamaCppLogits({ gguf: '/nonexistent.gguf', tokens: [1] })).rejects.toMatchObject({ code: 'E_NOT_FOUND', exitCode: 3 });
    await expect(llamaCppLogits({ gguf: '/nonexistent.gguf', tokens: [] })).rejects.toMatchObject({ code: 'E_TOKENS' });
    await expect(llamaCppLogits({ gguf: '/nonexistent.gguf', tokens: [3, -1] })).rejects.toThrow(/token 1 is -1/);
  });
});
