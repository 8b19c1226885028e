// Must NOT compile: each call breaks the published types.
import { inspect, quantize, convert } from 'm1kit';
await inspect(42);
await quantize('in', 'out', { scheme: 'fp9-block' });
await convert('in', 'out.gguf', { to: 'gguf', dtype: 'q3_k' });
