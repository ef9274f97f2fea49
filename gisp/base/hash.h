// Fingerprint: the hash behind the fingerprints that records persist (of models and calibration
// data; a record refuses to resume or materialize against different inputs). XXH3-128 with seed
// 0 (xxHash 0.8, Debian's libxxhash) over a byte stream that the callers define in
// docs/formats.md, so any xxHash implementation (e.g. PyPI `xxhash`: xxh3_128_hexdigest)
// recomputes it. Not cryptographic: it catches accidental mismatches, not forgeries. The value
// depends only on the bytes fed in and their order, never on how they were split into calls,
// the platform or the process.
#ifndef GISP_BASE_HASH_H_
#define GISP_BASE_HASH_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace gisp {

class Fingerprint {
 public:
  Fingerprint();
  ~Fingerprint();
  Fingerprint(const Fingerprint& other);
  Fingerprint& operator=(const Fingerprint& other);

  // Raw bytes, as they are.
  void Update(const void* data, size_t bytes);
  void Update(absl::string_view s) { Update(s.data(), s.size()); }
  // The framed encodings of docs/formats.md: 8 bytes little-endian two's complement, 8 bytes
  // little-endian IEEE-754 binary64, and a string as its byte length (UpdateInt) then its bytes.
  void UpdateInt(int64_t v);
  void UpdateDouble(double v);
  void UpdateString(absl::string_view s);

  // The 128-bit value, as xxHash's canonical (big-endian) 32 lower-case hex digits: the high
  // 64 bits first, as PyPI xxhash's xxh3_128_hexdigest() prints it.
  std::string Hex() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace gisp

#endif  // GISP_BASE_HASH_H_
