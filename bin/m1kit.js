#!/usr/bin/env node
// Entry point: everything lives in dist/cli/main.js (compiled from src/cli/main.ts).
import("../dist/cli/main.js").then((m) => m.main(process.argv));
