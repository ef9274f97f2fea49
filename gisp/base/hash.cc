#include "gisp/base/hash.h"

#include <xxhash.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_format.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "fingerprints hash tensors' in-memory bytes as little-endian values");

namespace gisp {

struct Fingerprint::State {
  XXH3_state_t* xxh;
  State() : xxh(XXH3_createState()) {
    if (xxh == nullptr) std::abort();
    XXH3_128bits_reset(xxh);
  }
  ~State() { XXH3_freeState(xxh); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
};

Fingerprint::Fingerprint() : state_(std::make_unique<State>()) {}
Fingerprint::~Fingerprint() = default;

Fingerprint::Fingerprint(const Fingerprint& other) : state_(std::make_unique<State>()) {
  XXH3_copyState(state_->xxh, other.state_->xxh);
}

Fingerprint& Fingerprint::operator=(const Fingerprint& other) {
  if (this != &other) XXH3_copyState(state_->xxh, other.state_->xxh);
  return *this;
}

void Fingerprint::Update(const void* data, size_t bytes) {
  if (bytes == 0) return;
  XXH3_128bits_update(state_->xxh, data, bytes);
}

void Fingerprint::UpdateInt(int64_t v) {
  unsigned char b[8];
  const uint64_t u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(u >> (8 * i));
  Update(b, sizeof(b));
}

void Fingerprint::UpdateDouble(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  UpdateInt(static_cast<int64_t>(bits));
}

void Fingerprint::UpdateString(absl::string_view s) {
  UpdateInt(static_cast<int64_t>(s.size()));
  Update(s.data(), s.size());
}

std::string Fingerprint::Hex() const {
  const XXH128_hash_t h = XXH3_128bits_digest(state_->xxh);
  return absl::StrFormat("%016x%016x", h.high64, h.low64);
}

}  // namespace gisp
