// Rng: a small deterministic generator (SplitMix64) with an unbiased bounded draw. gisp uses it
// instead of <random> distributions, whose outputs differ between standard libraries, so a seed
// gives the same calibration windows everywhere.
#ifndef GISP_BASE_RANDOM_H_
#define GISP_BASE_RANDOM_H_

#include <cstdint>

namespace gisp {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n), n > 0, without modulo bias (rejection of the short last block).
  uint64_t Uniform(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = Next();
    } while (x >= limit);
    return x % n;
  }

  // Uniform in [0, 1).
  double UniformDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

}  // namespace gisp

#endif  // GISP_BASE_RANDOM_H_
