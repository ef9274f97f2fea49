// The controls of tools/tsan_openmp.sh: they show that a run of its tests means something.
//   -DRACY=1: every thread of an OpenMP team adds to one int without synchronization; TSan must
//             report a data race (the sanitizer sees accesses in OpenMP regions at all).
//   -DRACY=0: each thread writes its own slot, an OpenMP barrier, then every thread reads every
//             slot. Correct code, but libomp's barrier is not instrumented: TSan reports it
//             unless Archer tells TSan about the barrier, so a clean run shows Archer works.
#include <omp.h>

#include <cstdio>

int main() {
  static int slots[64];
  int total = 0;
#pragma omp parallel num_threads(4)
  {
    const int t = omp_get_thread_num();
#if RACY
    slots[0] += t + 1;
#else
    slots[t] = t + 1;
#pragma omp barrier
    int sum = 0;
    for (int i = 0; i < omp_get_num_threads(); ++i) sum += slots[i];
#pragma omp atomic
    total += sum;
#endif
  }
  std::printf("%d %d\n", slots[0], total);
  return 0;
}
