// The reference backend: naive loops accumulating in double, written for clarity, not speed.
// It is the oracle every real kernel is tested against (gisp/backend/kernel_test.cc) and can run
// a whole (small) model for end-to-end cross-checks.
#ifndef GISP_BACKEND_CPU_REFERENCE_REFERENCE_BACKEND_H_
#define GISP_BACKEND_CPU_REFERENCE_REFERENCE_BACKEND_H_

#include <memory>

#include "gisp/backend/backend.h"

namespace gisp {

std::unique_ptr<Backend> NewReferenceBackend();

}  // namespace gisp

#endif  // GISP_BACKEND_CPU_REFERENCE_REFERENCE_BACKEND_H_
