/**
 * The I/O tuning constants of m1kit's streaming writers, in one place: band and copy sizes, how many
 * writes, copies, hash updates and fsyncs are kept in flight, and the short pauses that leave a vCPU to
 * the disk. None of them changes an output byte; each bounds memory or was measured to cost the least
 * time on the machines named. The native paced copy has its own pair (2 MiB calls, 20 µs sleep after
 * each; kernels/napi/ops_io.cc) since it loops inside one native call.
 */
import { DEFAULT_CHUNK_BYTES } from './limits.js';

// ---- bands and copies (core/pipeline: write-file, band sink; core/gguf/convert) ----

/** Bytes per row band of a rewritten tensor (of the widest representation handled: fp32 when casting). */
export const BAND_BYTES = DEFAULT_CHUNK_BYTES;

/**
 * Bytes per verbatim copy call at most: bounds the time between progress reports and abort checks.
 * Consecutive copies that continue each other in the input are merged up to this size, so a run of whole
 * tensors goes to the kernel in one call instead of one call (and one round trip) per tensor.
 */
export const COPY_BYTES = 64 * 1024 * 1024;

/** Writes kept in flight at once (each up to one band): lets the disk work while the next band is read. */
export const WRITES_IN_FLIGHT = 3;

/**
 * Copies kept in flight at once. One: concurrent copies into one file serialise on its lock in the kernel
 * and spin there (measured: 2 in flight cost more CPU than 1 and saved no time once copies are merged).
 */
export const COPIES_IN_FLIGHT = 1;

/** Band buffers kept for reuse by a buffer pool at most (fewer large allocations → less GC work). */
export const POOLED_BANDS = 6;

/**
 * Output files whose sha256 or fsync may still be pending while the next one is written. Each holds an
 * open file and a pending digest, no buffers. Not fewer: on ext4 an fsync waits for the data of every file
 * in the same journal transaction, so the first file's fsync ends with the others', and a small limit
 * stalls the next file behind it (seen as the last file starting only after the first three were durable).
 */
export const FLUSHES_IN_FLIGHT = 8;

// ---- quantization bands (core/quantize/quantize-job) ----

/** Elements quantized per band (4 Mi fp32 = 16 MiB of working set, plus the codes). */
export const QUANT_BAND_ELEMENTS = 4 * 1024 * 1024;

/** Bands read ahead of the one being quantized (reads from the page cache overlap the kernels). */
export const QUANT_READ_AHEAD = 2;

// ---- hashing of output files (core/pipeline/hasher, hash-thread) ----

/** Chunks queued for hashing at most (each ≤ one band): bounds the memory the hash queue can hold. */
export const HASH_QUEUE = 4;

/**
 * Copied bytes not yet hashed at most: hashing reads them from the input's page cache, so it must not
 * fall so far behind the copies that they have been evicted (it would then read them from disk again).
 */
export const HASH_LAG_BYTES = 1024 * 1024 * 1024;

/** Bytes a hash thread reads per digest per round: whole SHA blocks, small enough to stay in cache until hashed. */
export const HASH_READ_BYTES = 1 << 20;

/** Time a hash thread spends hashing before it looks at new messages (ms). */
export const HASH_SLICE_MS = 10;

/**
 * A pause of this long (ms) after each round of the lane hash thread. On the 2-vCPU VM measured, a thread
 * that hashes without ever leaving its vCPU starves the disk (writes ran ~5× slower while both vCPUs were
 * busy); pausing 20 µs per round (~1.5 ms of hashing) cut a 1.8 GB re-shard from 1.45 to 1.29 s, where a
 * lower scheduling priority did nothing. About 1% of the hashing rate on a machine without that effect.
 */
export const HASH_PAUSE_MS = 0.02;

/**
 * Hash threads (and so files hashed at once) with node's sha256: up to two, as sha256 of one file is
 * sequential. On a 2-core VM two workers finished re-shards sooner than one once copies went into
 * preallocated files (the copies then leave a core free early), and later than one before that.
 */
export const NODE_HASH_THREADS = 2;

// ---- GGUF encoding (core/gguf/convert, encode-pool) ----

/** Default cap on GGUF encode threads (beyond this the conversion is bound by disk I/O). */
export const MAX_ENCODE_THREADS = 8;

/** Encode jobs smaller than this (norm weights, small routers) run inline: a worker round trip costs more. */
export const ENCODE_INLINE_BELOW_BYTES = 1 << 20;

// ---- copies and writeback (core/ops/copy) ----

/** Buffer of the TypeScript copy loop used without the native addon (reused across calls; one per concurrent copy). */
export const COPY_LOOP_BUFFER_BYTES = DEFAULT_CHUNK_BYTES;

/** Idle copy-loop buffers kept for reuse at most. */
export const COPY_LOOP_BUFFERS_KEPT = 4;

/**
 * Bytes queued for writeback per call at most: small steady submissions keep the device busy while the
 * rest is still being written, where one call for hundreds of MB submits it all at once and then leaves
 * the disk idle while later bytes pile up (seen as a plateau of dirty pages during a re-shard).
 */
export const WRITEBACK_CALL_BYTES = 8 * 1024 * 1024;

// ---- downloads (core/hub/batch-writer) ----

/**
 * Size of each of the two batch buffers of a download. A batch stays in L2 between the copy, the hash
 * and the write, and in an isolated pwrite test (2-core VM, ext4) writes of 256–512 KiB cost the least
 * kernel time per GB; larger writes were never cheaper and at times several times dearer.
 */
export const WRITE_BATCH_BYTES = 256 * 1024;

/**
 * Written bytes of a download are handed to writeback in runs of this size: the disk starts on them
 * during the transfer, so the fsync before the rename finds little left (on the loopback benchmark that
 * fsync otherwise added ~0.6 s per 2 GB).
 */
export const WRITEBACK_BYTES = 8 * 1024 * 1024;
