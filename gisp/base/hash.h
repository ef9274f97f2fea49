// Fingerprint64: a fast, stable 64-bit hash for fingerprints of models and calibration data
// (records refuse to resume or materialize against different inputs). Not cryptographic. The
// value depends only on the bytes fed in and their order, never on the platform or process.
#ifndef GISP_BASE_HASH_H_
#define GISP_BASE_HASH_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace gisp {

class Fingerprint64 {
 public:
  void Update(const void* data, size_t bytes);
  void Update(absl::string_view s) { Update(s.data(), s.size()); }
  void UpdateInt(int64_t v) { Update(&v, sizeof(v)); }
  void UpdateDouble(double v) { Update(&v, sizeof(v)); }
  uint64_t value() const;
  std::string Hex() const;  // 16 lower-case hex digits

 private:
  uint64_t state_ = 0x9e3779b97f4a7c15ull;
  uint64_t length_ = 0;
  uint64_t tail_ = 0;  // pending bytes, little-endian
  int tail_bytes_ = 0;
};

}  // namespace gisp

#endif  // GISP_BASE_HASH_H_
