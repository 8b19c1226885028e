// Installs ts-hooks.mjs in a worker thread started from m1kit's TypeScript sources (see entry.ts).
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
