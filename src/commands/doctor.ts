import type { Command } from 'commander';
import { action } from '../cli/action.js';
import { UnavailableError } from '../core/errors.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('(not available in this build)')
    .action(
      action('doctor', async () => {
        throw new UnavailableError('E_NOT_BUILT', 'doctor is not available in this build');
      }),
    );
}
