// Slots of the amx level (AMX-TILE + AMX-BF16 on top of AVX512-BF16; flags in binding.gyp, target
// m1k_amx): gemm_bf16 on tiles and the tdpbf16ps peak probe. Every other slot comes from the levels
// below. The tile permission is requested by dispatch.cc before this level is ever selected.
//
// gemm_bf16: per thread, a 64-byte tile configuration of eight 16-row × 64-byte tiles: C00 C01 C10 C11
// (fp32 accumulators of a 32×32 output block), A0 A1 (16 rows × 32 bf16 of x each), B0 B1 (16 k-pairs
// × 16 outputs each, the pair layout of gemm_bf16_impl.h's packed W). x is rounded to bf16 and packed
// in KC-wide rows (zero padded to 32 rows and a multiple of 32 k), W in KC/2 × 32 pair panels.
#include <immintrin.h>

#pragma GCC diagnostic ignored "-Wunused-function"  // the shared headers define every slot; this level keeps a few
#define M1K_ISA_AVX512 1
#define M1K_ISA_NS amx
#define M1K_ISA_NAME "amx"
#include "gemm_bf16_impl.h"
#include "partial_table.h"

namespace m1k {
namespace amx {

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

class Tiles {
 public:
  Tiles() {
    TileConfig c;
    for (int i = 0; i < 8; ++i) {
      c.colsb[i] = 64;
      c.rows[i] = 16;
    }
    _tile_loadconfig(&c);
  }
  ~Tiles() { _tile_release(); }
};

constexpr int64_t kAKC = 512;   // k per slice (multiple of 32)
constexpr int64_t kAMC = 256;   // rows per packed x block (multiple of 32)
constexpr int64_t kANC = 1024;  // outputs per packed W block (multiple of 32)

static void amx_block(const GemmArgs& a, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  Tiles tiles;
  const uint16_t* w = static_cast<const uint16_t*>(a.w);
  Buf<uint32_t> wb;
  Buf<uint16_t> xb;
  uint32_t* Wp = wb.get(static_cast<size_t>(kAKC / 2 * kANC));
  uint16_t* Xp = xb.get(static_cast<size_t>(kAMC * kAKC));
  alignas(64) float t[32 * 32];
  if (!Wp || !Xp) return;
  for (int64_t jc = n0; jc < n1; jc += kANC) {
    const int64_t nc = std::min<int64_t>(kANC, n1 - jc), ncp = (nc + 31) / 32 * 32;
    for (int64_t pc = 0; pc < a.k; pc += kAKC) {
      const int64_t kc = std::min<int64_t>(kAKC, a.k - pc), kcp = (kc + 31) / 32 * 32;
      // W pairs: Wp[p·32·(ncp/32) …]: panel jp (32 outputs) holds kcp/2 rows of 32 words
      for (int64_t jp = 0; jp < ncp; jp += 32) {
        uint32_t* P = Wp + jp * (kcp / 2);
        for (int64_t p = 0; p < kcp / 2; ++p)
          for (int64_t j = 0; j < 32; ++j) {
            const int64_t n = jc + jp + j, kk = pc + 2 * p;
            P[p * 32 + j] = (jp + j < nc && 2 * p < kc) ? pair_at(w + n * a.k, pc + kc, kk) : 0u;
          }
      }
      for (int64_t ic = m0; ic < m1; ic += kAMC) {
        const int64_t mc = std::min<int64_t>(kAMC, m1 - ic), mcp = (mc + 31) / 32 * 32;
        for (int64_t i = 0; i < mcp; ++i)
          for (int64_t kk = 0; kk < kcp; ++kk)
            Xp[i * kcp + kk] = (i < mc && kk < kc) ? bf16_of_bits(f32_bits(a.x[(ic + i) * a.k + pc + kk])) : uint16_t{0};
        for (int64_t jr = 0; jr < ncp; jr += 32) {
          const uint32_t* B = Wp + jr * (kcp / 2);
          for (int64_t ir = 0; ir < mcp; ir += 32) {
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int64_t kk = 0; kk < kcp; kk += 32) {
              _tile_loadd(4, Xp + ir * kcp + kk, kcp * 2);
              _tile_loadd(5, Xp + (ir + 16) * kcp + kk, kcp * 2);
              _tile_loadd(6, B + (kk / 2) * 32, 128);
              _tile_loadd(7, B + (kk / 2) * 32 + 16, 128);
              _tile_dpbf16ps(0, 4, 6);
              _tile_dpbf16ps(1, 4, 7);
              _tile_dpbf16ps(2, 5, 6);
              _tile_dpbf16ps(3, 5, 7);
            }
            _tile_stored(0, t, 128);
            _tile_stored(1, t + 16, 128);
            _tile_stored(2, t + 16 * 32, 128);
            _tile_stored(3, t + 16 * 32 + 16, 128);
            const int64_t mr = std::min<int64_t>(32, mc - ir), nr = std::min<int64_t>(32, nc - jr);
            for (int64_t i = 0; i < mr; ++i) {
              float* y = a.y + (ic + ir + i) * a.nOut + jc + jr;
              for (int64_t j = 0; j < nr; ++j) y[j] = pc > 0 ? y[j] + t[i * 32 + j] : t[i * 32 + j];
            }
          }
        }
      }
    }
  }
}

static void gemm_bf16_amx(const GemmArgs& a) {
  if (!a.wBf16 || a.m < kPackMinRows || a.k == 0) {
    gemm_bf16_dp(a);  // decode-sized and fp32-weight calls: the vdpbf16ps / generic paths
    return;
  }
  FlushDenormals ftz;
  split_packed(a, 32, 32, kAMC, [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) { amx_block(a, m0, m1, n0, n1); });
}

// tdpbf16ps register peak: 4 independent accumulator tiles; 16·16·32·2 FLOPs per instruction.
static double amx_peak(int64_t iters, int threads) {
  threads = std::max(1, std::min(threads, 256));
  parallel_for(threads, threads, [&](int64_t, int64_t) {
    Tiles tiles;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_zero(4);
    _tile_zero(5);
    _tile_zero(6);
    _tile_zero(7);
    for (int64_t it = 0; it < iters; ++it) {
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  });
  return static_cast<double>(threads) * static_cast<double>(iters) * 4 * 16 * 16 * 32 * 2;
}

static const KernelTable kTable = partial_table(M1K_ISA_NAME, [](KernelTable& t) {
  t.gemm_bf16 = &gemm_bf16_amx;
  t.bf16_peak = &amx_peak;
});

}  // namespace amx
const KernelTable* table_amx() { return &amx::kTable; }
}  // namespace m1k
