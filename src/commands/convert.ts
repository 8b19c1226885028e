import type { Command } from 'commander';
import { action } from '../cli/action.js';
import { UnavailableError } from '../core/errors.js';

export function register(program: Command): void {
  program
    .command('convert')
    .description('(not available in this build)')
    .action(
      action('convert', async () => {
        throw new UnavailableError('E_NOT_BUILT', 'convert is not available in this build');
      }),
    );
}
