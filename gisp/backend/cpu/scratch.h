// Scratch: reusable host workspace for kernels that need temporaries (attention's score blocks,
// partial sums). It grows to the largest request and is kept, so a calibration pass does not
// allocate and page-fault the same megabytes once per layer. Not thread-safe: one Scratch per
// backend, and a backend is used by one thread at a time.
#ifndef GISP_BACKEND_CPU_SCRATCH_H_
#define GISP_BACKEND_CPU_SCRATCH_H_

#include <cstddef>
#include <cstdlib>

namespace gisp {

class Scratch {
 public:
  Scratch() = default;
  ~Scratch() { std::free(data_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // At least `floats` floats, 64-byte aligned, contents unspecified; nullptr if out of memory.
  // Invalidates earlier pointers.
  float* Get(size_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      capacity_ = floats + floats / 4;
      data_ =
          static_cast<float*>(std::aligned_alloc(64, (capacity_ * sizeof(float) + 63) / 64 * 64));
      if (data_ == nullptr) capacity_ = 0;
    }
    return data_;
  }
  size_t capacity_floats() const { return capacity_; }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace gisp

#endif  // GISP_BACKEND_CPU_SCRATCH_H_
