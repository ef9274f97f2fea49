// Communicator: the collective operations data-parallel pruning needs (docs/scaling.md).
//
// GISP's Gbar is a weighted sum over calibration batches whose weights already carry the 1/n
// factors (gisp/data/sequences.h), so ranks that each sum the gradients of their share of the
// batches, followed by one element-wise sum over ranks, hold the same Gbar as one process that
// ran every batch. Every rank then computes the same scores, threshold and pruned set. The core
// sees only this interface; MPI (c_api/gisp_mpi.h through the C ABI's gisp_communicator), NCCL
// or a test's threads sit behind it.
//
// Contract for every implementation:
//  * Collective calls are made by every rank, in the same order, with the same element counts.
//  * AllReduceSum leaves bit-identical values on every rank (the pruner relies on it: identical
//    Gbar gives identical decisions without a second exchange).
//  * Buffers are host memory. An error status means this rank's collective failed; the others
//    may hang or fail in turn (MPI's default error handler aborts the job instead).
#ifndef GISP_COMM_COMMUNICATOR_H_
#define GISP_COMM_COMMUNICATOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace gisp {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;  // in [0, size)
  virtual int size() const = 0;  // >= 1

  // Element-wise sum over all ranks, in place.
  virtual absl::Status AllReduceSum(absl::Span<float> data) = 0;
  virtual absl::Status AllReduceSum(absl::Span<double> data) = 0;
  // Copies `bytes` bytes of `root`'s `data` into every other rank's `data`.
  virtual absl::Status Broadcast(void* data, size_t bytes, int root) = 0;
  // Returns once every rank has called it.
  virtual absl::Status Barrier() = 0;
};

// Rank 0 of 1: every collective returns at once and touches nothing. The default wherever a
// communicator is optional, so single-process runs pay nothing for the seam.
std::shared_ptr<Communicator> SingleProcessCommunicator();

// The batches [begin, end) of `n` that `rank` of `size` processes: contiguous blocks in rank
// order, rank r starting at floor(r * n / size), so block sizes differ by at most one and a rank
// gets none when n < size. The rule is part of what makes a record reproducible for a rank count
// (docs/scaling.md).
struct BatchRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};
BatchRange ShareOf(int64_t n, int rank, int size);

}  // namespace gisp

#endif  // GISP_COMM_COMMUNICATOR_H_
