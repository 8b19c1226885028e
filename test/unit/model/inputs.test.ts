import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { loadTokens, parseTokenJson } from '../../../src/core/model/tokens.js';
import { weightBudget } from '../../../src/core/model/budget.js';
import { tmpDir } from '../../helpers/tmp.js';

describe('token input', () => {
  it('accepts a comma list, an array, {"input_ids"} and lists of sequences', async () => {
    expect(await loadTokens('1, 2,3')).toEqual([[1, 2, 3]]);
    expect(parseTokenJson([4, 5], 'x')).toEqual([[4, 5]]);
    expect(parseTokenJson({ input_ids: [6] }, 'x')).toEqual([[6]]);
    expect(parseTokenJson({ input_ids: [[1, 2], [3]] }, 'x')).toEqual([[1, 2], [3]]);
    const dir = await tmpDir();
    const f = join(dir, 't.json');
    await writeFile(f, '[[7, 8], [9]]');
    expect(await loadTokens(f)).toEqual([[7, 8], [9]]);
  });
  it('rejects bad ids with the file and position', async () => {
    expect(() => parseTokenJson([1, -2], 'ids.json')).toThrow('ids.json: token 1 must be a non-negative integer, got -2');
    expect(() => parseTokenJson({ ids: [1] }, 'ids.json')).toThrow(/"input_ids"/);
    expect(() => parseTokenJson([], 'ids.json')).toThrow(/non-empty/);
    const dir = await tmpDir();
    const f = join(dir, 'bad.json');
    await writeFile(f, '[1,');
    await expect(loadTokens(f)).rejects.toMatchObject({ code: 'E_TOKENS', exitCode: 3 });
  });
});

describe('memory budget', () => {
  it('splits the budget', () => {
    expect(weightBudget(2 ** 30)).toEqual({ cacheBytes: 2 ** 29, chunkBytes: 64 * 2 ** 20 });
    expect(weightBudget(64 * 2 ** 20)).toEqual({ cacheBytes: 32 * 2 ** 20, chunkBytes: 8 * 2 ** 20 });
  });
});
