import type { Command } from 'commander';
import { action } from '../cli/action.js';
import { UnavailableError } from '../core/errors.js';

export function register(program: Command): void {
  program
    .command('download')
    .description('(not available in this build)')
    .action(
      action('download', async () => {
        throw new UnavailableError('E_NOT_BUILT', 'download is not available in this build');
      }),
    );
}
