import type { Command } from 'commander';
import { action } from '../cli/action.js';
import { UnavailableError } from '../core/errors.js';

export function register(program: Command): void {
  program
    .command('verify')
    .description('(not available in this build)')
    .action(
      action('verify', async () => {
        throw new UnavailableError('E_NOT_BUILT', 'verify is not available in this build');
      }),
    );
}
