#include "gisp/base/hash.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace gisp {
namespace {

// The 64-bit finalizer of MurmurHash3 / SplitMix64: every input bit affects every output bit.
inline uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

inline uint64_t Absorb(uint64_t state, uint64_t word) {
  return Mix(state ^ (word + 0x9e3779b97f4a7c15ull + (state << 6) + (state >> 2)));
}

}  // namespace

void Fingerprint64::Update(const void* data, size_t bytes) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  length_ += bytes;
  // Complete a pending partial word first.
  while (tail_bytes_ > 0 && tail_bytes_ < 8 && bytes > 0) {
    tail_ |= static_cast<uint64_t>(*p++) << (8 * tail_bytes_++);
    --bytes;
  }
  if (tail_bytes_ == 8) {
    state_ = Absorb(state_, tail_);
    tail_ = 0;
    tail_bytes_ = 0;
  }
  while (bytes >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);  // little-endian machines only (x86-64, aarch64)
    state_ = Absorb(state_, w);
    p += 8;
    bytes -= 8;
  }
  while (bytes > 0) {
    tail_ |= static_cast<uint64_t>(*p++) << (8 * tail_bytes_++);
    --bytes;
  }
}

uint64_t Fingerprint64::value() const {
  uint64_t s = state_;
  if (tail_bytes_ > 0) s = Absorb(s, tail_);
  return Mix(s ^ length_);
}

std::string Fingerprint64::Hex() const { return absl::StrFormat("%016x", value()); }

}  // namespace gisp
