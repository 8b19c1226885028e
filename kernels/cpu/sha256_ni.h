// SHA-256 block compression with the x86 SHA extensions, several independent streams at once.
#pragma once
#include <cstdint>

namespace m1k {

// True when this CPU has the SHA extensions (and SSSE3/SSE4.1).
bool sha256_ni_available();

// For each of `count` lanes: compress blocks[l] whole 64-byte blocks of data[l] into state[l] (8 words,
// FIPS 180-4 order: a…h). Lanes are independent hashes; up to four are interleaved at a time.
void sha256_ni_lanes(uint32_t* const* state, const uint8_t* const* data, const int64_t* blocks, int count);

}  // namespace m1k
