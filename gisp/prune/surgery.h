// Applying a set of pruned units to the working model, in one of two equivalent ways:
//   MaskModel:    zero the pruned rows/columns of a dense model (what the released code does);
//   CompactModel: physically drop them, so the next calibration pass runs smaller GEMMs.
// Both give the same function; tests check they give the same scores and record. The model
// applies the change itself (LlamaModel::ZeroPositions / ApplyLayout); this file translates
// unit structures into its per-layer positions.
#ifndef GISP_PRUNE_SURGERY_H_
#define GISP_PRUNE_SURGERY_H_

#include "absl/status/status.h"
#include "gisp/model/llama_model.h"
#include "gisp/units/units.h"

namespace gisp {

// Zeroes, in a model whose layers are dense, the q/k/v rows, o columns (and biases), gate/up
// rows and down columns of everything `kept` does not keep.
absl::Status MaskModel(LlamaModel* model, const KeptStructure& kept);

// Shrinks a model laid out as `current` (dense ids of its rows) to `next` (a subset), updating
// model->config().layers to next.shapes.
absl::Status CompactModel(LlamaModel* model, const KeptStructure& current,
                          const KeptStructure& next);

// Positions of `subset` within `current` (both sorted dense ids), each expanded to `width`
// consecutive rows: head h at position p covers rows p*width .. p*width+width-1.
std::vector<int32_t> ExpandPositions(const std::vector<int32_t>& current,
                                     const std::vector<int32_t>& subset, int64_t width);

}  // namespace gisp

#endif  // GISP_PRUNE_SURGERY_H_
