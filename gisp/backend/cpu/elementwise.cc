// Fill, Add, Axpy: memory-bound loops split evenly over the threads.
#include <omp.h>

#include "gisp/backend/cpu/ops.h"

// Compiled for x86-64-v3; CreateCpuBackend checks the CPU before any of this runs.
GISP_X86_V3_BEGIN

namespace gisp {
namespace cpu {

int64_t NumThreads() { return omp_get_max_threads(); }

void Fill(float* out, float value, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) out[i] = value;
}

void Add(float* out, const float* a, const float* b, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void Axpy(float* y, float alpha, const float* x, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace cpu
}  // namespace gisp

GISP_X86_V3_END
