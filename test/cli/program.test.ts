import { describe, expect, it } from 'vitest';
import { commands, selectedCommand } from '../../src/commands/index.js';
import { m1kit } from '../helpers/cli.js';

describe('program frame', () => {
  it('every command has --help with examples, exit 0', async () => {
    for (const c of commands) {
      const r = await m1kit([c.name, '--help']);
      expect(r.code, c.name).toBe(0);
      expect(r.stdout, c.name).toContain(`Usage: m1kit ${c.name}`);
      expect(r.stdout, c.name).toMatch(/Examples?:/);
    }
  });

  it('top-level help lists every command; unknown commands and options exit 2', async () => {
    const help = await m1kit(['--help']);
    expect(help.code).toBe(0);
    for (const c of commands) expect(help.stdout).toContain(c.name);
    expect((await m1kit(['no-such-command'])).code).toBe(2);
    expect((await m1kit(['inspect', 'fixtures/tiny', '--no-such-flag'])).code).toBe(2);
    expect((await m1kit(['bench', 'compare'])).code).toBe(2); // nested subcommand usage error
    expect((await m1kit(['--threads', '0', 'doctor'])).code).toBe(2);
  });

  it('selects the command to load past global options', () => {
    expect(selectedCommand(['node', 'm1kit', '--threads', '2', '--json', 'inspect', 'x'])).toBe('inspect');
    expect(selectedCommand(['node', 'm1kit', 'help', 'bench'])).toBe('bench');
    expect(selectedCommand(['node', 'm1kit', '--json'])).toBeUndefined();
  });

  it('--version prints the package version', async () => {
    const r = await m1kit(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
