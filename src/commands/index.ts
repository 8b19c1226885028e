/** Registry of commands: one file per command, each exporting `register(program)`. */
import type { Command } from 'commander';
import { register as download } from './download.js';
import { register as inspect } from './inspect.js';
import { register as fixture } from './fixture.js';
import { register as convert } from './convert.js';
import { register as quantize } from './quantize.js';
import { register as dequantize } from './dequantize.js';
import { register as forward } from './forward.js';
import { register as verify } from './verify.js';
import { register as bench } from './bench.js';
import { register as doctor } from './doctor.js';

export const commands: ((program: Command) => void)[] = [download, inspect, fixture, convert, quantize, dequantize, forward, verify, bench, doctor];
