// Causal grouped-query attention in f32, flash-attention style: no kernel ever holds a T x T
// score matrix, only [BQ, BK] tiles of it in shared memory.
//
// Layouts: q, out, d_q, d_out: [B, Tq, Hq, Dh]; k, v, d_k, d_v: [B, Tk, KV, Dh]; lse, row_dot:
// [B, Hq, Tq]. Query t sits at key position shift + t with shift = Tk - Tq and sees keys
// 0..shift+t. Query head h reads KV head kv_map[h] (a device array, so pruned maps work).
//
// Tiling. A block has 256 threads viewed as a 16 x 16 grid (tx = thread % 16, ty = thread / 16).
// Tiles are BQ queries x BK keys: 64 x 64 for Dh <= 128, 32 x 32 for Dh <= 256 (so every kernel
// fits in the 163 KB of shared memory an A100 offers; an H100/H200 offers 227 KB). Dh-wide tiles
// are stored with a row stride of kDh + 4 floats, zero-padded beyond Dh: rows stay 16-byte
// aligned for float4 loads, and the 4-float skew puts the 8 threads of a quarter-warp that read
// 8 different rows in 8 different bank groups (conflict-free). In a score tile, thread (ty, tx)
// owns rows ty + 16 i and columns tx + 16 j; in a [rows, Dh] accumulator it owns rows ty + 16 i
// and the float4 column groups 64 g + 4 tx. A score row's 16 owners are 16 consecutive lanes of
// one warp, so row maxima and sums are xor-shuffles within half a warp.
//
// Forward, grid (Tq / BQ, Hq, B): the Q tile stays in shared memory; for each key tile up to the
// diagonal, load K, S = Q K^T * scale (registers), mask, online softmax (running max m and sum
// l per row, rescaling the output accumulator), write P to shared memory, load V into K's
// buffer, O += P V. At the end O /= l and lse = m + log(l).
//
// Backward (recomputes P from q, k and lse; never stores it):
//  1. row_dot[b, h, t] = sum_e dO * O (one warp per row): the softmax backward's row term D.
//  2. dQ, grid (Tq / BQ, Hq, B): for each key tile, S = Q K^T, dP = dO V^T, P = exp(S * scale -
//     lse), dS = P * (dP - D), dQ += dS K; finally dQ *= scale.
//  3. dK / dV, grid (Tk / BK, KV, B): the block keeps its K and V tiles and accumulates dK and
//     dV in registers while it loops over every query head h with kv_map[h] == its KV head (in
//     increasing h) and every query tile that can see its keys (in increasing order):
//     dV += P^T dO, dK += dS^T Q; finally dK *= scale.
//
// Determinism. Every output element is written by exactly one thread of one block, and each
// thread accumulates its sums in an order fixed by the loop structure (d, then key or query
// tiles, then query heads in index order); the shuffle reductions use fixed xor patterns. Query
// heads sharing a KV head are summed inside one block instead of through float atomics, so dK
// and dV are bit-reproducible on the same GPU, as are out, lse and dQ.
//
// Work balance: with causal masking the last query tiles (forward, dQ) and the first key tiles
// (dK / dV) do the most work; the grids are ordered so those blocks are scheduled first.
#include <cstdint>

#include "gisp/backend/cuda/attention.h"
#include "gisp/backend/cuda/common.cuh"

namespace gisp {
namespace gpu {
namespace {

constexpr int kAttnThreads = 256;  // a 16 x 16 thread grid

template <int kDh>
struct Tiles;
template <>
struct Tiles<64> {
  static constexpr int kBQ = 64, kBK = 64;
};
template <>
struct Tiles<128> {
  static constexpr int kBQ = 64, kBK = 64;
};
template <>
struct Tiles<256> {
  static constexpr int kBQ = 32, kBK = 32;
};

template <int kDh>
struct Layout {
  static constexpr int kBQ = Tiles<kDh>::kBQ;
  static constexpr int kBK = Tiles<kDh>::kBK;
  static constexpr int kLd = kDh + 4;   // row stride of [rows, Dh] tiles (floats)
  static constexpr int kLdP = kBK + 4;  // row stride of the [BQ, BK] probability tile
  static constexpr int kRQ = kBQ / 16;  // query rows per thread
  static constexpr int kRK = kBK / 16;  // key rows (or columns) per thread
  static constexpr int kG = kDh / 64;   // float4 column groups per thread of a [rows, Dh] tile
  // Forward: Q, one K-or-V buffer, P. Backward: Q, dO, K, V, P (or dS).
  static constexpr int kForwardFloats = (kBQ + kBK) * kLd + kBQ * kLdP;
  static constexpr int kBackwardFloats = 2 * (kBQ + kBK) * kLd + kBQ * kLdP;
};

// Sizes as the kernels see them (int: every extent was checked to fit on the host).
struct Geometry {
  int tq, tk, hq, kv, dh;
  int shift;    // tk - tq
  float scale;  // softmax scale applied to q . k
  bool vec;     // dh % 4 == 0 and all tensors 16-byte aligned: float4 global access
};

__device__ __forceinline__ int64_t RowOffset(int b, int t, int seq, int heads, int h, int dh) {
  return ((static_cast<int64_t>(b) * seq + t) * heads + h) * dh;
}

__device__ __forceinline__ int64_t StatIndex(int b, int h, int hq, int t, int tq) {
  return (static_cast<int64_t>(b) * hq + h) * tq + t;
}

__device__ __forceinline__ float Component(const float4& v, int i) {
  return i == 0 ? v.x : (i == 1 ? v.y : (i == 2 ? v.z : v.w));
}

__device__ __forceinline__ void Fma4(float4& acc, float w, const float4& x) {
  acc.x = fmaf(w, x.x, acc.x);
  acc.y = fmaf(w, x.y, acc.y);
  acc.z = fmaf(w, x.z, acc.z);
  acc.w = fmaf(w, x.w, acc.w);
}

// Max / sum over the 16 lanes that own one score row (lanes 0-15 or 16-31 of a warp).
__device__ __forceinline__ float RowMax16(float v) {
#pragma unroll
  for (int offset = 8; offset > 0; offset >>= 1) {
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

__device__ __forceinline__ float RowSum16(float v) {
#pragma unroll
  for (int offset = 8; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Copies `rows` rows of Dh floats (global row stride `stride`) into a [kRows, kDh + 4] shared
// tile; rows >= `rows` and columns >= dh are zero-filled so the tile products need no bounds.
template <int kRows, int kDh>
__device__ __forceinline__ void LoadTile(float* tile, const float* src, int64_t stride, int rows,
                                         int dh, bool vec) {
  constexpr int kLd = kDh + 4;
  if (vec) {
    constexpr int kVecs = kDh / 4;
    for (int i = threadIdx.x; i < kRows * kVecs; i += kAttnThreads) {
      const int r = i / kVecs;
      const int c = (i - r * kVecs) * 4;
      float4 val = make_float4(0.f, 0.f, 0.f, 0.f);
      if (r < rows && c < dh) val = *reinterpret_cast<const float4*>(src + r * stride + c);
      *reinterpret_cast<float4*>(tile + r * kLd + c) = val;
    }
  } else {
    for (int i = threadIdx.x; i < kRows * kDh; i += kAttnThreads) {
      const int r = i / kDh;
      const int c = i - r * kDh;
      tile[r * kLd + c] = (r < rows && c < dh) ? src[r * stride + c] : 0.f;
    }
  }
}

// Writes this thread's part of a [rows, Dh] accumulator, row i scaled by factor[i].
template <int kR, int kG>
__device__ __forceinline__ void StoreTile(float* dst, int64_t stride, int rows, int dh, bool vec,
                                          const float4 (&acc)[kR][kG], const float (&factor)[kR],
                                          int ty, int tx) {
#pragma unroll
  for (int i = 0; i < kR; ++i) {
    const int r = ty + 16 * i;
    if (r >= rows) continue;
    float* row = dst + r * stride;
#pragma unroll
    for (int g = 0; g < kG; ++g) {
      const int c = 64 * g + 4 * tx;
      if (c >= dh) continue;
      const float4 o = make_float4(acc[i][g].x * factor[i], acc[i][g].y * factor[i],
                                   acc[i][g].z * factor[i], acc[i][g].w * factor[i]);
      if (vec) {
        *reinterpret_cast<float4*>(row + c) = o;  // dh % 4 == 0, so c + 3 < dh
      } else {
        row[c] = o.x;
        if (c + 1 < dh) row[c + 1] = o.y;
        if (c + 2 < dh) row[c + 2] = o.z;
        if (c + 3 < dh) row[c + 3] = o.w;
      }
    }
  }
}

// acc[i][j] += sum_d a[ty + 16 i][d] * b[tx + 16 j][d] over d < dh4 (dh rounded up to 4; the
// padding is zero). a, b: shared [rows, kLd] tiles.
template <int kM, int kN, int kLd>
__device__ __forceinline__ void DotTile(float (&acc)[kM][kN], const float* a, const float* b,
                                        int dh4, int ty, int tx) {
#pragma unroll 2
  for (int d = 0; d < dh4; d += 4) {
    float4 av[kM], bv[kN];
#pragma unroll
    for (int i = 0; i < kM; ++i)
      av[i] = *reinterpret_cast<const float4*>(a + (ty + 16 * i) * kLd + d);
#pragma unroll
    for (int j = 0; j < kN; ++j)
      bv[j] = *reinterpret_cast<const float4*>(b + (tx + 16 * j) * kLd + d);
#pragma unroll
    for (int i = 0; i < kM; ++i) {
#pragma unroll
      for (int j = 0; j < kN; ++j) {
        acc[i][j] = fmaf(av[i].x, bv[j].x, acc[i][j]);
        acc[i][j] = fmaf(av[i].y, bv[j].y, acc[i][j]);
        acc[i][j] = fmaf(av[i].z, bv[j].z, acc[i][j]);
        acc[i][j] = fmaf(av[i].w, bv[j].w, acc[i][j]);
      }
    }
  }
}

// acc[i][g] += sum_k p[ty + 16 i][k] * x[k][64 g + 4 tx .. + 3] for k < kInner.
// p: shared [rows, kLdP]; x: shared [kInner, kLd].
template <int kM, int kG, int kInner, int kLdP, int kLd>
__device__ __forceinline__ void ProbTimesTile(float4 (&acc)[kM][kG], const float* p, const float* x,
                                              int ty, int tx) {
#pragma unroll 2
  for (int k = 0; k < kInner; k += 4) {
    float4 pv[kM];
#pragma unroll
    for (int i = 0; i < kM; ++i)
      pv[i] = *reinterpret_cast<const float4*>(p + (ty + 16 * i) * kLdP + k);
#pragma unroll
    for (int kk = 0; kk < 4; ++kk) {
#pragma unroll
      for (int g = 0; g < kG; ++g) {
        const float4 xv = *reinterpret_cast<const float4*>(x + (k + kk) * kLd + 64 * g + 4 * tx);
#pragma unroll
        for (int i = 0; i < kM; ++i) Fma4(acc[i][g], Component(pv[i], kk), xv);
      }
    }
  }
}

// acc[i][g] += sum_q p[q][ty + 16 i] * x[q][64 g + 4 tx .. + 3] for q < kInner: the transposed
// probability tile times x. p: shared [kInner, kLdP]; x: shared [kInner, kLd].
template <int kM, int kG, int kInner, int kLdP, int kLd>
__device__ __forceinline__ void ProbTransposeTimesTile(float4 (&acc)[kM][kG], const float* p,
                                                       const float* x, int ty, int tx) {
#pragma unroll 4
  for (int q = 0; q < kInner; ++q) {
    float pv[kM];
#pragma unroll
    for (int i = 0; i < kM; ++i) pv[i] = p[q * kLdP + ty + 16 * i];
#pragma unroll
    for (int g = 0; g < kG; ++g) {
      const float4 xv = *reinterpret_cast<const float4*>(x + q * kLd + 64 * g + 4 * tx);
#pragma unroll
      for (int i = 0; i < kM; ++i) Fma4(acc[i][g], pv[i], xv);
    }
  }
}

// Whether query row t may attend to key `key` (also false for padding rows and keys).
__device__ __forceinline__ bool Visible(const Geometry& g, int t, int key) {
  return t < g.tq && key < g.tk && key <= g.shift + t;
}

// What a block of the query-tile kernels (forward, dQ; grid (Tq / BQ, Hq, B)) works on: its
// batch, query head and KV head, its thread's place in the 16 x 16 grid, its query rows, the
// row strides and the key tiles up to its diagonal.
struct QueryBlock {
  int b, h, kvh, tx, ty, dh4, q0, q_rows, key_tiles;
  int64_t q_stride, kv_stride, q_off;
};

template <int kBQ, int kBK>
__device__ __forceinline__ QueryBlock QueryBlockOf(const int32_t* kv_map, const Geometry& g) {
  QueryBlock r;
  const int qt = gridDim.x - 1 - blockIdx.x;  // heaviest (last) query tiles first
  r.h = blockIdx.y;
  r.b = blockIdx.z;
  r.kvh = kv_map[r.h];
  r.tx = threadIdx.x & 15;
  r.ty = threadIdx.x >> 4;
  r.dh4 = (g.dh + 3) & ~3;
  r.q0 = qt * kBQ;
  r.q_rows = min(kBQ, g.tq - r.q0);
  r.q_stride = static_cast<int64_t>(g.hq) * g.dh;
  r.kv_stride = static_cast<int64_t>(g.kv) * g.dh;
  r.q_off = RowOffset(r.b, r.q0, g.tq, g.hq, r.h, g.dh);
  const int last_key = min(g.tk - 1, g.shift + r.q0 + r.q_rows - 1);
  r.key_tiles = last_key / kBK + 1;
  return r;
}

template <int kDh>
__global__ void __launch_bounds__(kAttnThreads, 2)
    AttentionForwardKernel(float* out, float* lse, const float* q, const float* k, const float* v,
                           const int32_t* kv_map, Geometry g) {
  using L = Layout<kDh>;
  extern __shared__ float4 smem4[];
  float* qs = reinterpret_cast<float*>(smem4);  // [BQ, kLd]
  float* kvs = qs + L::kBQ * L::kLd;            // [BK, kLd]: K, then V of the same tile
  float* ps = kvs + L::kBK * L::kLd;            // [BQ, kLdP]
  const auto [b, h, kvh, tx, ty, dh4, q0, q_rows, key_tiles, q_stride, kv_stride, q_off] =
      QueryBlockOf<L::kBQ, L::kBK>(kv_map, g);
  LoadTile<L::kBQ, kDh>(qs, q + q_off, q_stride, q_rows, g.dh, g.vec);

  float m[L::kRQ], l[L::kRQ];
  float4 acc[L::kRQ][L::kG];
#pragma unroll
  for (int i = 0; i < L::kRQ; ++i) {
    m[i] = -INFINITY;
    l[i] = 0.f;
#pragma unroll
    for (int c = 0; c < L::kG; ++c) acc[i][c] = make_float4(0.f, 0.f, 0.f, 0.f);
  }
  for (int kt = 0; kt < key_tiles; ++kt) {
    const int k0 = kt * L::kBK;
    const int k_rows = min(L::kBK, g.tk - k0);
    const int64_t kv_off = RowOffset(b, k0, g.tk, g.kv, kvh, g.dh);
    LoadTile<L::kBK, kDh>(kvs, k + kv_off, kv_stride, k_rows, g.dh, g.vec);
    __syncthreads();  // Q (first tile) and K are in shared memory
    float s[L::kRQ][L::kRK];
#pragma unroll
    for (int i = 0; i < L::kRQ; ++i) {
#pragma unroll
      for (int j = 0; j < L::kRK; ++j) s[i][j] = 0.f;
    }
    DotTile<L::kRQ, L::kRK, L::kLd>(s, qs, kvs, dh4, ty, tx);
    __syncthreads();  // everyone is done with K: its buffer takes V
    LoadTile<L::kBK, kDh>(kvs, v + kv_off, kv_stride, k_rows, g.dh, g.vec);
#pragma unroll
    for (int i = 0; i < L::kRQ; ++i) {
      const int t = q0 + ty + 16 * i;
      float row_max = -INFINITY;
#pragma unroll
      for (int j = 0; j < L::kRK; ++j) {
        s[i][j] = Visible(g, t, k0 + tx + 16 * j) ? s[i][j] * g.scale : -INFINITY;
        row_max = fmaxf(row_max, s[i][j]);
      }
      row_max = RowMax16(row_max);
      const float m_new = fmaxf(m[i], row_max);
      // A row with nothing visible yet (only padding rows) keeps m = -inf; shifting by 0 then
      // keeps exp() at 0 instead of producing NaN from (-inf) - (-inf).
      const float m_use = m_new == -INFINITY ? 0.f : m_new;
      const float alpha = expf(m[i] - m_use);
      float row_sum = 0.f;
#pragma unroll
      for (int j = 0; j < L::kRK; ++j) {
        s[i][j] = expf(s[i][j] - m_use);
        row_sum += s[i][j];
        ps[(ty + 16 * i) * L::kLdP + tx + 16 * j] = s[i][j];
      }
      row_sum = RowSum16(row_sum);
      l[i] = l[i] * alpha + row_sum;
      m[i] = m_new;
#pragma unroll
      for (int c = 0; c < L::kG; ++c) {
        acc[i][c].x *= alpha;
        acc[i][c].y *= alpha;
        acc[i][c].z *= alpha;
        acc[i][c].w *= alpha;
      }
    }
    __syncthreads();  // P and V are in shared memory
    ProbTimesTile<L::kRQ, L::kG, L::kBK, L::kLdP, L::kLd>(acc, ps, kvs, ty, tx);
    __syncthreads();  // done with P and V before the next tile overwrites them
  }

  float inv_l[L::kRQ];
#pragma unroll
  for (int i = 0; i < L::kRQ; ++i) {
    inv_l[i] = l[i] > 0.f ? 1.f / l[i] : 0.f;
    const int t = q0 + ty + 16 * i;
    if (tx == 0 && t < g.tq) lse[StatIndex(b, h, g.hq, t, g.tq)] = m[i] + logf(l[i]);
  }
  StoreTile<L::kRQ, L::kG>(out + q_off, q_stride, q_rows, g.dh, g.vec, acc, inv_l, ty, tx);
}

// row_dot[b, h, t] = sum_e d_out[b, t, h, e] * out[b, t, h, e]. One warp per (b, t, h) row.
__global__ void RowDotKernel(float* row_dot, const float* d_out, const float* out, int64_t rows,
                             int tq, int hq, int dh) {
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;  // uniform per warp
  const float* a = d_out + row * dh;
  const float* o = out + row * dh;
  float acc = 0.f;
  for (int e = lane; e < dh; e += 32) acc = fmaf(a[e], o[e], acc);
  acc = WarpSum(acc);
  if (lane == 0) {
    const int h = static_cast<int>(row % hq);
    const int64_t bt = row / hq;
    const int t = static_cast<int>(bt % tq);
    const int b = static_cast<int>(bt / tq);
    row_dot[StatIndex(b, h, hq, t, tq)] = acc;
  }
}

// Loads the saved log-sum-exp and row_dot of this thread's query rows (0 for padding rows).
template <int kRQ>
__device__ __forceinline__ void LoadRowStats(float (&row_lse)[kRQ], float (&row_d)[kRQ],
                                             const float* lse, const float* row_dot,
                                             const Geometry& g, int b, int h, int q0, int ty) {
#pragma unroll
  for (int i = 0; i < kRQ; ++i) {
    const int t = q0 + ty + 16 * i;
    const bool valid = t < g.tq;
    const int64_t idx = StatIndex(b, h, g.hq, valid ? t : 0, g.tq);
    row_lse[i] = valid ? lse[idx] : 0.f;
    row_d[i] = valid ? row_dot[idx] : 0.f;
  }
}

// s <- P = exp(s * scale - lse) (0 where masked); dp <- dS = P * (dP - D).
template <int kRQ, int kRK>
__device__ __forceinline__ void ProbAndGrad(float (&s)[kRQ][kRK], float (&dp)[kRQ][kRK],
                                            const float (&row_lse)[kRQ], const float (&row_d)[kRQ],
                                            const Geometry& g, int q0, int k0, int ty, int tx) {
#pragma unroll
  for (int i = 0; i < kRQ; ++i) {
    const int t = q0 + ty + 16 * i;
#pragma unroll
    for (int j = 0; j < kRK; ++j) {
      const float p = Visible(g, t, k0 + tx + 16 * j) ? expf(s[i][j] * g.scale - row_lse[i]) : 0.f;
      s[i][j] = p;
      dp[i][j] = p * (dp[i][j] - row_d[i]);
    }
  }
}

template <int kM, int kN>
__device__ __forceinline__ void Zero(float (&a)[kM][kN]) {
#pragma unroll
  for (int i = 0; i < kM; ++i) {
#pragma unroll
    for (int j = 0; j < kN; ++j) a[i][j] = 0.f;
  }
}

template <int kM, int kG>
__device__ __forceinline__ void Zero(float4 (&a)[kM][kG]) {
#pragma unroll
  for (int i = 0; i < kM; ++i) {
#pragma unroll
    for (int c = 0; c < kG; ++c) a[i][c] = make_float4(0.f, 0.f, 0.f, 0.f);
  }
}

// The backward pass's per-tile work shared by the dQ and dK / dV kernels: S = Q K^T and
// dP = dO V^T for this thread's scores, then P = exp(S * scale - lse) in s and
// dS / scale = P * (dP - D) in dp.
template <class L>
__device__ __forceinline__ void ScoresAndGrads(float (&s)[L::kRQ][L::kRK],
                                               float (&dp)[L::kRQ][L::kRK], const float* qs,
                                               const float* dos, const float* ks, const float* vs,
                                               const float (&row_lse)[L::kRQ],
                                               const float (&row_d)[L::kRQ], const Geometry& g,
                                               int q0, int k0, int dh4, int ty, int tx) {
  Zero(s);
  Zero(dp);
  DotTile<L::kRQ, L::kRK, L::kLd>(s, qs, ks, dh4, ty, tx);
  DotTile<L::kRQ, L::kRK, L::kLd>(dp, dos, vs, dh4, ty, tx);
  ProbAndGrad(s, dp, row_lse, row_d, g, q0, k0, ty, tx);
}

// Writes this thread's scores (rows ty + 16 i, columns tx + 16 j) into a shared [BQ, kLdP] tile.
template <int kLdP, int kRQ, int kRK>
__device__ __forceinline__ void StoreScores(float* ps, const float (&r)[kRQ][kRK], int ty, int tx) {
#pragma unroll
  for (int i = 0; i < kRQ; ++i) {
#pragma unroll
    for (int j = 0; j < kRK; ++j) ps[(ty + 16 * i) * kLdP + tx + 16 * j] = r[i][j];
  }
}

template <int kDh>
__global__ void __launch_bounds__(kAttnThreads)
    AttentionBackwardDqKernel(float* d_q, const float* d_out, const float* q, const float* k,
                              const float* v, const float* lse, const float* row_dot,
                              const int32_t* kv_map, Geometry g) {
  using L = Layout<kDh>;
  extern __shared__ float4 smem4[];
  float* qs = reinterpret_cast<float*>(smem4);  // [BQ, kLd]
  float* dos = qs + L::kBQ * L::kLd;            // [BQ, kLd]
  float* ks = dos + L::kBQ * L::kLd;            // [BK, kLd]
  float* vs = ks + L::kBK * L::kLd;             // [BK, kLd]
  float* ps = vs + L::kBK * L::kLd;             // [BQ, kLdP]: dS
  const auto [b, h, kvh, tx, ty, dh4, q0, q_rows, key_tiles, q_stride, kv_stride, q_off] =
      QueryBlockOf<L::kBQ, L::kBK>(kv_map, g);
  LoadTile<L::kBQ, kDh>(qs, q + q_off, q_stride, q_rows, g.dh, g.vec);
  LoadTile<L::kBQ, kDh>(dos, d_out + q_off, q_stride, q_rows, g.dh, g.vec);
  float row_lse[L::kRQ], row_d[L::kRQ];
  LoadRowStats<L::kRQ>(row_lse, row_d, lse, row_dot, g, b, h, q0, ty);

  float4 acc[L::kRQ][L::kG];
  Zero(acc);
  for (int kt = 0; kt < key_tiles; ++kt) {
    const int k0 = kt * L::kBK;
    const int k_rows = min(L::kBK, g.tk - k0);
    const int64_t kv_off = RowOffset(b, k0, g.tk, g.kv, kvh, g.dh);
    LoadTile<L::kBK, kDh>(ks, k + kv_off, kv_stride, k_rows, g.dh, g.vec);
    LoadTile<L::kBK, kDh>(vs, v + kv_off, kv_stride, k_rows, g.dh, g.vec);
    __syncthreads();
    float s[L::kRQ][L::kRK], dp[L::kRQ][L::kRK];
    ScoresAndGrads<L>(s, dp, qs, dos, ks, vs, row_lse, row_d, g, q0, k0, dh4, ty, tx);
    StoreScores<L::kLdP>(ps, dp, ty, tx);
    __syncthreads();
    ProbTimesTile<L::kRQ, L::kG, L::kBK, L::kLdP, L::kLd>(acc, ps, ks, ty, tx);  // dQ += dS K
    __syncthreads();
  }
  float factor[L::kRQ];
#pragma unroll
  for (int i = 0; i < L::kRQ; ++i) factor[i] = g.scale;
  StoreTile<L::kRQ, L::kG>(d_q + q_off, q_stride, q_rows, g.dh, g.vec, acc, factor, ty, tx);
}

template <int kDh>
__global__ void __launch_bounds__(kAttnThreads)
    AttentionBackwardDkvKernel(float* d_k, float* d_v, const float* d_out, const float* q,
                               const float* k, const float* v, const float* lse,
                               const float* row_dot, const int32_t* kv_map, Geometry g) {
  using L = Layout<kDh>;
  extern __shared__ float4 smem4[];
  float* ks = reinterpret_cast<float*>(smem4);  // [BK, kLd]
  float* vs = ks + L::kBK * L::kLd;             // [BK, kLd]
  float* qs = vs + L::kBK * L::kLd;             // [BQ, kLd]
  float* dos = qs + L::kBQ * L::kLd;            // [BQ, kLd]
  float* ps = dos + L::kBQ * L::kLd;            // [BQ, kLdP]: P, then dS
  const int kt = blockIdx.x;                    // heaviest (first) key tiles first
  const int kvh = blockIdx.y;
  const int b = blockIdx.z;
  const int tx = threadIdx.x & 15;
  const int ty = threadIdx.x >> 4;
  const int dh4 = (g.dh + 3) & ~3;
  const int k0 = kt * L::kBK;
  const int k_rows = min(L::kBK, g.tk - k0);
  const int64_t q_stride = static_cast<int64_t>(g.hq) * g.dh;
  const int64_t kv_stride = static_cast<int64_t>(g.kv) * g.dh;
  const int64_t kv_off = RowOffset(b, k0, g.tk, g.kv, kvh, g.dh);
  LoadTile<L::kBK, kDh>(ks, k + kv_off, kv_stride, k_rows, g.dh, g.vec);
  LoadTile<L::kBK, kDh>(vs, v + kv_off, kv_stride, k_rows, g.dh, g.vec);

  float4 dk[L::kRK][L::kG], dv[L::kRK][L::kG];
  Zero(dk);
  Zero(dv);
  // The first query that sees key k0 is t = k0 - shift.
  const int first_query = max(0, k0 - g.shift);
  const int first_tile = first_query / L::kBQ;
  const int query_tiles = (g.tq + L::kBQ - 1) / L::kBQ;
  for (int h = 0; h < g.hq; ++h) {
    if (kv_map[h] != kvh) continue;  // uniform over the block
    for (int qt = first_tile; qt < query_tiles; ++qt) {
      const int q0 = qt * L::kBQ;
      const int q_rows = min(L::kBQ, g.tq - q0);
      const int64_t q_off = RowOffset(b, q0, g.tq, g.hq, h, g.dh);
      __syncthreads();  // the previous tile's readers of Q, dO and P are done
      LoadTile<L::kBQ, kDh>(qs, q + q_off, q_stride, q_rows, g.dh, g.vec);
      LoadTile<L::kBQ, kDh>(dos, d_out + q_off, q_stride, q_rows, g.dh, g.vec);
      float row_lse[L::kRQ], row_d[L::kRQ];
      LoadRowStats<L::kRQ>(row_lse, row_d, lse, row_dot, g, b, h, q0, ty);
      __syncthreads();
      float s[L::kRQ][L::kRK], dp[L::kRQ][L::kRK];
      ScoresAndGrads<L>(s, dp, qs, dos, ks, vs, row_lse, row_d, g, q0, k0, dh4, ty, tx);
      StoreScores<L::kLdP>(ps, s, ty, tx);
      __syncthreads();
      ProbTransposeTimesTile<L::kRK, L::kG, L::kBQ, L::kLdP, L::kLd>(dv, ps, dos, ty, tx);
      __syncthreads();
      StoreScores<L::kLdP>(ps, dp, ty, tx);
      __syncthreads();
      ProbTransposeTimesTile<L::kRK, L::kG, L::kBQ, L::kLdP, L::kLd>(dk, ps, qs, ty, tx);
    }
  }
  float k_factor[L::kRK], v_factor[L::kRK];
#pragma unroll
  for (int i = 0; i < L::kRK; ++i) {
    k_factor[i] = g.scale;
    v_factor[i] = 1.f;
  }
  StoreTile<L::kRK, L::kG>(d_k + kv_off, kv_stride, k_rows, g.dh, g.vec, dk, k_factor, ty, tx);
  StoreTile<L::kRK, L::kG>(d_v + kv_off, kv_stride, k_rows, g.dh, g.vec, dv, v_factor, ty, tx);
}

bool Aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// Checks the extents fit the kernels' int arithmetic and the grid limits; fills the geometry.
bool MakeGeometry(const AttentionShape& s, float scale, bool aligned, Geometry* g) {
  constexpr int64_t kIntMax = 0x7fffffff;
  if (s.tq > kIntMax || s.tk > kIntMax || s.hq > 65535 || s.kv > 65535 || s.b > 65535 ||
      s.dh > kMaxAttentionHeadDim || s.tk < s.tq) {
    return false;
  }
  g->tq = static_cast<int>(s.tq);
  g->tk = static_cast<int>(s.tk);
  g->hq = static_cast<int>(s.hq);
  g->kv = static_cast<int>(s.kv);
  g->dh = static_cast<int>(s.dh);
  g->shift = static_cast<int>(s.tk - s.tq);
  g->scale = scale;
  g->vec = s.dh % 4 == 0 && aligned;
  return true;
}

template <int kDh>
int LaunchForward(float* out, float* lse, const float* q, const float* k, const float* v,
                  const int32_t* kv_map, const AttentionShape& s, const Geometry& g,
                  Stream stream) {
  using L = Layout<kDh>;
  const int smem = L::kForwardFloats * static_cast<int>(sizeof(float));
  const cudaError_t e = cudaFuncSetAttribute(AttentionForwardKernel<kDh>,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (e != cudaSuccess) return e;
  const dim3 grid(static_cast<unsigned>((s.tq + L::kBQ - 1) / L::kBQ), static_cast<unsigned>(s.hq),
                  static_cast<unsigned>(s.b));
  AttentionForwardKernel<kDh><<<grid, kAttnThreads, smem, stream>>>(out, lse, q, k, v, kv_map, g);
  return LaunchStatus();
}

template <int kDh>
int LaunchBackward(float* d_q, float* d_k, float* d_v, const float* row_dot, const float* d_out,
                   const float* q, const float* k, const float* v, const float* lse,
                   const int32_t* kv_map, const AttentionShape& s, const Geometry& g,
                   Stream stream) {
  using L = Layout<kDh>;
  const int smem = L::kBackwardFloats * static_cast<int>(sizeof(float));
  cudaError_t e = cudaFuncSetAttribute(AttentionBackwardDqKernel<kDh>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (e != cudaSuccess) return e;
  e = cudaFuncSetAttribute(AttentionBackwardDkvKernel<kDh>,
                           cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (e != cudaSuccess) return e;
  if (s.tq > 0 && s.hq > 0) {
    const dim3 grid(static_cast<unsigned>((s.tq + L::kBQ - 1) / L::kBQ),
                    static_cast<unsigned>(s.hq), static_cast<unsigned>(s.b));
    AttentionBackwardDqKernel<kDh>
        <<<grid, kAttnThreads, smem, stream>>>(d_q, d_out, q, k, v, lse, row_dot, kv_map, g);
    const int launched = LaunchStatus();
    if (launched != 0) return launched;
  }
  // Runs even when no query head maps to a KV head (pruned maps): it then writes zeros.
  const dim3 grid(static_cast<unsigned>((s.tk + L::kBK - 1) / L::kBK), static_cast<unsigned>(s.kv),
                  static_cast<unsigned>(s.b));
  AttentionBackwardDkvKernel<kDh>
      <<<grid, kAttnThreads, smem, stream>>>(d_k, d_v, d_out, q, k, v, lse, row_dot, kv_map, g);
  return LaunchStatus();
}

}  // namespace

int64_t AttentionSharedBytes(int64_t dh, bool backward) {
  auto bytes = [backward](auto layout) -> int64_t {
    using L = decltype(layout);
    return static_cast<int64_t>(backward ? L::kBackwardFloats : L::kForwardFloats) *
           static_cast<int64_t>(sizeof(float));
  };
  if (dh <= 64) return bytes(Layout<64>{});
  if (dh <= 128) return bytes(Layout<128>{});
  return bytes(Layout<256>{});
}

int AttentionForward(float* out, float* lse, const float* q, const float* k, const float* v,
                     const int32_t* kv_map, const AttentionShape& s, float scale, Stream stream) {
  if (s.b == 0 || s.tq == 0 || s.hq == 0) return 0;
  Geometry g;
  const bool aligned = Aligned16(out) && Aligned16(q) && Aligned16(k) && Aligned16(v);
  if (!MakeGeometry(s, scale, aligned, &g)) return cudaErrorInvalidValue;
  if (s.dh <= 64) return LaunchForward<64>(out, lse, q, k, v, kv_map, s, g, stream);
  if (s.dh <= 128) return LaunchForward<128>(out, lse, q, k, v, kv_map, s, g, stream);
  return LaunchForward<256>(out, lse, q, k, v, kv_map, s, g, stream);
}

int AttentionBackward(float* d_q, float* d_k, float* d_v, float* row_dot, const float* d_out,
                      const float* q, const float* k, const float* v, const float* out,
                      const float* lse, const int32_t* kv_map, const AttentionShape& s, float scale,
                      Stream stream) {
  if (s.b == 0 || s.tk == 0 || s.kv == 0) return 0;  // d_k, d_v are empty (d_q too: Tq <= Tk)
  Geometry g;
  const bool aligned = Aligned16(d_q) && Aligned16(d_k) && Aligned16(d_v) && Aligned16(d_out) &&
                       Aligned16(q) && Aligned16(k) && Aligned16(v);
  if (!MakeGeometry(s, scale, aligned, &g)) return cudaErrorInvalidValue;
  const int64_t rows = s.b * s.tq * s.hq;
  if (rows > 0) {
    const int64_t blocks = (rows * 32 + kThreads - 1) / kThreads;
    RowDotKernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(row_dot, d_out, out, rows,
                                                                         g.tq, g.hq, g.dh);
    const int e = LaunchStatus();
    if (e != 0) return e;
  }
  if (s.dh <= 64) {
    return LaunchBackward<64>(d_q, d_k, d_v, row_dot, d_out, q, k, v, lse, kv_map, s, g, stream);
  }
  if (s.dh <= 128) {
    return LaunchBackward<128>(d_q, d_k, d_v, row_dot, d_out, q, k, v, lse, kv_map, s, g, stream);
  }
  return LaunchBackward<256>(d_q, d_k, d_v, row_dot, d_out, q, k, v, lse, kv_map, s, g, stream);
}

}  // namespace gpu
}  // namespace gisp
