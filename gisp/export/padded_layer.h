// Rebuilding one sliced decoder layer's weights in a wider, regular layout: query and KV heads
// moved to the slots of a GroupedLayout (zero heads in empty slots) and the MLP zero-padded to a
// given number of channels. Zero q rows / o columns and zero gate, up rows / down columns add
// exactly nothing, so the padded layer computes the sliced layer's function. Bytes are copied,
// so every storage dtype stays bit-exact.
#ifndef GISP_EXPORT_PADDED_LAYER_H_
#define GISP_EXPORT_PADDED_LAYER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "gisp/export/regroup.h"
#include "gisp/model/weights.h"

namespace gisp {

// `w`: a sliced layer (q_proj [Hl*Dh, D], k/v_proj [KVl*Dh, D], o_proj [D, Hl*Dh],
// gate/up_proj [Fl, D], down_proj [D, Fl], and whichever biases are non-empty: q/k/v [Hl*Dh] /
// [KVl*Dh], o [D], gate/up [Fl], down [D]). Result: q_proj [layout.q_src.size()*Dh, D], k/v_proj
// [layout.kv_src.size()*Dh, D], o_proj [D, ...], MLP [intermediate, D] / [D, intermediate]
// (intermediate >= Fl), q/k/v and gate/up biases placed like their rows (zero in empty slots:
// a zero gate row with a zero gate bias and a zero up bias outputs silu(0) * 0 = 0); norms and
// o/down biases shared with `w`.
absl::StatusOr<LayerWeights> PadLayer(const LayerWeights& w, int64_t head_dim,
                                      const GroupedLayout& layout, int64_t intermediate);

}  // namespace gisp

#endif  // GISP_EXPORT_PADDED_LAYER_H_
