// Test support: `size` communicators for threads of one process, each the rank of its index.
// Collectives rendezvous on a shared barrier; AllReduceSum adds the ranks' values in rank order,
// so every rank gets identical sums, as the Communicator contract requires. For tests of
// data-parallel code without MPI (one thread per rank, each with its own model).
#ifndef GISP_COMM_THREAD_COMMUNICATOR_H_
#define GISP_COMM_THREAD_COMMUNICATOR_H_

#include <memory>
#include <vector>

#include "gisp/comm/communicator.h"

namespace gisp {
namespace testing {

std::vector<std::shared_ptr<Communicator>> MakeThreadCommunicators(int size);

}  // namespace testing
}  // namespace gisp

#endif  // GISP_COMM_THREAD_COMMUNICATOR_H_
