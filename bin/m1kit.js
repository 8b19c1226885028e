#!/usr/bin/env node
// Entry point: everything lives in dist/cli/main.js (compiled from src/cli/main.ts).
// libuv's file-system thread pool has 4 threads by default; fsync and writeback of finished files can
// each hold one for a long time while the disk catches up, so copies and reads get room beside them.
// The size is read when the pool starts: this file is CommonJS (bin/package.json) because loading it
// as an ES module already starts the pool. A value the user chose is kept.
process.env.UV_THREADPOOL_SIZE ??= '16';
import('../dist/cli/main.js').then((m) => m.main(process.argv));
