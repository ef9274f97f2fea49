// Batch: the tokens, targets and loss weights of one forward/backward pass. Its own target
// (//gisp/model:batch) so calibration data (gisp/data) can build batches without the model.
#ifndef GISP_MODEL_BATCH_H_
#define GISP_MODEL_BATCH_H_

#include "gisp/tensor/tensor.h"

namespace gisp {

// One batch of sequences. Host or device tensors.
struct Batch {
  Tensor tokens;   // i32 [B, T]
  Tensor targets;  // i32 [B, T]: the label of each position (-1: no loss there)
  // f32 [B, T]: weight of each position's loss. Empty: 1 / (number of labelled positions), i.e.
  // the mean token cross-entropy of the batch.
  Tensor weights;
};

}  // namespace gisp

#endif  // GISP_MODEL_BATCH_H_
