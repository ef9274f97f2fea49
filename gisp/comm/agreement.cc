#include "gisp/comm/agreement.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gisp/base/hash.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

constexpr size_t kMaxMessage = 4096;

// The low 32 bits of the value's XXH3-128: exact in a double, so summing it with zeros (the
// other ranks' slots) is exact too.
double Digest(const std::string& value) {
  Fingerprint f;
  f.Update(value);
  const std::string hex = f.Hex();
  uint32_t d = 0;
  for (char c : hex.substr(hex.size() - 8)) {
    d = d * 16 + static_cast<uint32_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return static_cast<double>(d);
}

// The failed rank's code and message, sent from `root` to every rank.
absl::Status ShareFailure(Communicator& comm, int root, const absl::Status& local) {
  int32_t header[2] = {0, 0};  // code, message length
  std::string message;
  if (comm.rank() == root) {
    message = std::string(local.message().substr(0, kMaxMessage));
    header[0] = static_cast<int32_t>(local.code());
    header[1] = static_cast<int32_t>(message.size());
  }
  GISP_RETURN_IF_ERROR(comm.Broadcast(header, sizeof(header), root));
  const size_t length = std::min<size_t>(static_cast<size_t>(std::max(header[1], 0)), kMaxMessage);
  message.resize(length);
  GISP_RETURN_IF_ERROR(comm.Broadcast(message.data(), length, root));
  // A failed rank never reports OK; a zero code can only come from a broken transport.
  const auto code =
      header[0] == 0 ? absl::StatusCode::kUnknown : static_cast<absl::StatusCode>(header[0]);
  return absl::Status(code, absl::StrCat("rank ", root, " of ", comm.size(), ": ", message));
}

}  // namespace

absl::Status Agree(Communicator& comm, const absl::Status& local,
                   absl::Span<const SharedFact> facts, absl::Span<double> sums) {
  const int n = comm.size();
  if (n == 1) return local;
  const int r = comm.rank();
  const size_t nf = facts.size();
  // [failed flag per rank][nf digests per rank][sums]: each rank writes only its own slots, so
  // the flags and digests arrive exactly.
  std::vector<double> buffer(static_cast<size_t>(n) * (1 + nf) + sums.size(), 0.0);
  double* flags = buffer.data();
  double* digests = flags + n;
  double* total = digests + static_cast<size_t>(n) * nf;
  flags[r] = local.ok() ? 0.0 : 1.0;
  if (local.ok()) {
    for (size_t i = 0; i < nf; ++i)
      digests[static_cast<size_t>(r) * nf + i] = Digest(facts[i].value);
    std::copy(sums.begin(), sums.end(), total);
  }
  GISP_RETURN_IF_ERROR(comm.AllReduceSum(absl::MakeSpan(buffer)));
  for (int f = 0; f < n; ++f) {
    if (flags[f] != 0.0) return ShareFailure(comm, f, local);
  }
  for (size_t i = 0; i < nf; ++i) {
    for (int q = 1; q < n; ++q) {
      if (digests[static_cast<size_t>(q) * nf + i] != digests[i]) {
        return absl::FailedPreconditionError(absl::StrCat(
            "rank ", q, " of ", n, " has a different ", facts[i].what, " than rank 0"));
      }
    }
  }
  std::copy(total, total + sums.size(), sums.begin());
  return absl::OkStatus();
}

}  // namespace gisp
