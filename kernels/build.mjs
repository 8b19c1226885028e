// Placeholder until the native kernels land: nothing to build.
console.error('m1kit: no native kernels in this build; using the TypeScript reference');
