// Agreeing on failure. A rank that fails between two collectives must not leave the others
// waiting in the next one, and a user must learn which rank failed and why. So at each point
// where ranks can diverge (after local setup, after a calibration pass, at the end of a step)
// every rank calls Agree with its own outcome, and every rank returns the same answer.
#ifndef GISP_COMM_AGREEMENT_H_
#define GISP_COMM_AGREEMENT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "gisp/comm/communicator.h"

namespace gisp {

// Something every rank must share, e.g. the model's fingerprint. Agree compares a 32-bit hash
// of `value` (XXH3) across ranks, so `value` may be long.
struct SharedFact {
  absl::string_view what;  // named in the error: "model fingerprint"
  std::string value;
};

// Collective. Every rank passes its own `local` outcome and gets back the same status:
//  * OK when every rank succeeded and every rank's facts equal rank 0's;
//  * else the error of the lowest failed rank, with its code and its message prefixed by
//    "rank R of N: " (the message travels by broadcast, at most 4096 bytes);
//  * else FailedPrecondition "rank R of N has a different <what> than rank 0".
// `sums` (the same length on every rank) is summed over ranks in the same reduction, so a
// caller can combine its per-rank numbers at no extra round trip; it holds the sums only when
// OK is returned. One all-reduce of doubles, plus one broadcast when a rank failed.
// On a single rank: returns `local` and touches nothing.
absl::Status Agree(Communicator& comm, const absl::Status& local,
                   absl::Span<const SharedFact> facts = {}, absl::Span<double> sums = {});

}  // namespace gisp

#endif  // GISP_COMM_AGREEMENT_H_
