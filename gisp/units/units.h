// The unit pool of GISP (method.md section 1): attention heads and MLP channels of every decoder
// layer, indexed once for the dense model so a unit keeps its id through every step and in the
// record. Record order: for each layer l, its head units then its channel units.
//
// Head units depend on the attention shape and the chosen GQA unit:
//   MHA (KV == H):          unit h = q, k, v rows and o columns of head h
//   GQA, query-head units:  unit h = q rows and o columns of query head h (K/V always kept)
//   GQA, kv-group units:    unit j = KV head j with all G = H / KV query heads that read it
#ifndef GISP_UNITS_UNITS_H_
#define GISP_UNITS_UNITS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gisp/model/config.h"

namespace gisp {

// The head unit chosen for grouped-query attention (method.md section 1). gisp's one C++
// spelling of the option: the record's proto enum and the C API's enum are converted to it at
// those boundaries. It matters only under GQA; an MHA model always has one unit per head.
enum class GqaUnit { kQueryHead, kKvGroup };

// "query-head", "kv-group". Name: "" for a value outside the enum. Parse: InvalidArgument naming
// the accepted names and `name`.
const char* GqaUnitName(GqaUnit unit);
absl::StatusOr<GqaUnit> ParseGqaUnit(absl::string_view name);

// The head unit a unit space ended up with: the chosen GqaUnit, or kMha when KV == H.
enum class HeadUnitKind { kMha, kQueryHead, kKvGroup };

struct UnitSpace {
  int64_t num_layers = 0;
  int64_t heads = 0;     // head units per layer: H (MHA, query-head) or KV (kv-group)
  int64_t channels = 0;  // channel units per layer: F
  int64_t group = 1;     // query heads per KV head in the dense model (G = H / KV)
  HeadUnitKind kind = HeadUnitKind::kMha;
  std::vector<bool> protected_layer;

  int64_t per_layer() const { return heads + channels; }
  int64_t size() const { return num_layers * per_layer(); }
  int64_t HeadUnit(int64_t layer, int64_t h) const { return layer * per_layer() + h; }
  int64_t ChannelUnit(int64_t layer, int64_t c) const { return layer * per_layer() + heads + c; }
  int64_t LayerOf(int64_t unit) const { return unit / per_layer(); }
  bool IsHead(int64_t unit) const { return unit % per_layer() < heads; }
  int64_t IndexInKind(int64_t unit) const {
    const int64_t r = unit % per_layer();
    return r < heads ? r : r - heads;
  }
  int64_t protected_units() const;
};

// Layers with index < floor(protect_first_fraction * L) and (if protect_last) the last layer
// are protected. `config` must be dense.
absl::StatusOr<UnitSpace> MakeUnitSpace(const LlamaConfig& config, GqaUnit gqa_unit,
                                        double protect_first_fraction, bool protect_last);

// Which original query heads, KV heads and channels of each layer survive a set of pruned
// units, and the per-layer shape they give. `pruned[u]` is true for pruned units.
struct KeptStructure {
  std::vector<std::vector<int32_t>> heads;     // per layer: kept query heads (dense ids, sorted)
  std::vector<std::vector<int32_t>> kv_heads;  // per layer: kept KV heads (dense ids, sorted)
  std::vector<std::vector<int32_t>> channels;  // per layer: kept channels (dense ids, sorted)
  std::vector<LayerShape> shapes;              // per layer: widths and kv_map over kept heads
};
KeptStructure ComputeKept(const UnitSpace& space, const LlamaConfig& dense,
                          const std::vector<bool>& pruned);

}  // namespace gisp

#endif  // GISP_UNITS_UNITS_H_
