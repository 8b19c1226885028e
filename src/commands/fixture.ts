import type { Command } from 'commander';
import { action } from '../cli/action.js';
import { UnavailableError } from '../core/errors.js';

export function register(program: Command): void {
  program
    .command('fixture')
    .description('(not available in this build)')
    .action(
      action('fixture', async () => {
        throw new UnavailableError('E_NOT_BUILT', 'fixture is not available in this build');
      }),
    );
}
