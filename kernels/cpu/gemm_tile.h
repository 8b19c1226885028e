// Register-tiled fp32 matrix product used by the attention kernels:
//   C[M, N] (+)= A(i, k) · B[k, N],  A(i, k) = A[i·ars + k·acs] (so Aᵀ is free), B rows contiguous.
// Tiles of MR rows × NV vectors stay in registers; column tails fall back to 1 vector, then scalars.
#pragma once
#include <cstdint>
#include "vec.h"

namespace m1k {
namespace M1K_ISA_NS {

template <int MR, int NV>
static inline void tile(int64_t K, const float* A, int64_t ars, int64_t acs, const float* B, int64_t ldb,
                        float* C, int64_t ldc, bool acc) {
  vf c[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) c[i][v] = acc ? vload(C + i * ldc + v * VW) : vzero();
  for (int64_t k = 0; k < K; ++k) {
    vf b[NV];
    for (int v = 0; v < NV; ++v) b[v] = vload(B + k * ldb + v * VW);
    for (int i = 0; i < MR; ++i) {
      vf a = vset1(A[i * ars + k * acs]);
      for (int v = 0; v < NV; ++v) c[i][v] = vfma(a, b[v], c[i][v]);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) vstore(C + i * ldc + v * VW, c[i][v]);
}

constexpr int kMR = VW == 16 ? 6 : 4;  // AVX-512: 6×4 = 24 accumulators of 32 zmm
constexpr int kNV = VW == 16 ? 4 : VW == 8 ? 2 : 4;

template <int NV>
static inline void rows_of(int64_t M, int64_t K, const float* A, int64_t ars, int64_t acs, const float* B,
                           int64_t ldb, float* C, int64_t ldc, bool acc) {
  int64_t i = 0;
  for (; i + kMR <= M; i += kMR) tile<kMR, NV>(K, A + i * ars, ars, acs, B, ldb, C + i * ldc, ldc, acc);
  for (; i + 4 <= M; i += 4) tile<4, NV>(K, A + i * ars, ars, acs, B, ldb, C + i * ldc, ldc, acc);
  for (; i + 2 <= M; i += 2) tile<2, NV>(K, A + i * ars, ars, acs, B, ldb, C + i * ldc, ldc, acc);
  for (; i < M; ++i) tile<1, NV>(K, A + i * ars, ars, acs, B, ldb, C + i * ldc, ldc, acc);
}

static inline void gemm_nn(int64_t M, int64_t N, int64_t K, const float* A, int64_t ars, int64_t acs,
                           const float* B, int64_t ldb, float* C, int64_t ldc, bool acc) {
  int64_t j = 0;
  for (; j + kNV * VW <= N; j += kNV * VW) rows_of<kNV>(M, K, A, ars, acs, B + j, ldb, C + j, ldc, acc);
  if (VW > 1)
    for (; j + VW <= N; j += VW) rows_of<1>(M, K, A, ars, acs, B + j, ldb, C + j, ldc, acc);
  for (; j < N; ++j) {
    for (int64_t i = 0; i < M; ++i) {
      float s = acc ? C[i * ldc + j] : 0.f;
      for (int64_t k = 0; k < K; ++k) s += A[i * ars + k * acs] * B[k * ldb + j];
      C[i * ldc + j] = s;
    }
  }
}

}  // namespace M1K_ISA_NS
}  // namespace m1k
