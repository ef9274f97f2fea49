#include "gisp/units/units.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "gisp/base/enum_names.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

constexpr EnumName<GqaUnit> kGqaUnitNames[] = {{GqaUnit::kQueryHead, "query-head"},
                                               {GqaUnit::kKvGroup, "kv-group"}};

}  // namespace

const char* GqaUnitName(GqaUnit unit) { return NameOf(kGqaUnitNames, unit); }

absl::StatusOr<GqaUnit> ParseGqaUnit(absl::string_view name) {
  return ParseName(kGqaUnitNames, "GQA unit", name);
}

int64_t UnitSpace::protected_units() const {
  int64_t n = 0;
  for (bool p : protected_layer) n += p ? per_layer() : 0;
  return n;
}

absl::StatusOr<UnitSpace> MakeUnitSpace(const LlamaConfig& config, GqaUnit gqa_unit,
                                        double protect_first_fraction, bool protect_last) {
  GISP_CHECK_ARG(config.IsDense(), "pruning needs the dense model: ", config.model_type,
                 " config has per-layer widths (a model gisp already pruned)");
  GISP_CHECK_ARG(protect_first_fraction >= 0 && protect_first_fraction <= 1,
                 "protected-layer fraction must be in [0, 1], got ", protect_first_fraction);
  UnitSpace s;
  s.num_layers = config.num_layers;
  s.channels = config.intermediate_size;
  s.group = config.num_heads / config.num_kv_heads;
  if (config.num_kv_heads == config.num_heads) {
    s.kind = HeadUnitKind::kMha;
    s.heads = config.num_heads;
  } else if (gqa_unit == GqaUnit::kKvGroup) {
    s.kind = HeadUnitKind::kKvGroup;
    s.heads = config.num_kv_heads;
  } else {
    s.kind = HeadUnitKind::kQueryHead;
    s.heads = config.num_heads;
  }
  s.protected_layer.assign(static_cast<size_t>(s.num_layers), false);
  const int64_t first = static_cast<int64_t>(std::floor(protect_first_fraction * s.num_layers));
  for (int64_t l = 0; l < s.num_layers; ++l) {
    if (l < first || (protect_last && l == s.num_layers - 1)) s.protected_layer[l] = true;
  }
  return s;
}

KeptStructure ComputeKept(const UnitSpace& space, const LlamaConfig& dense,
                          const std::vector<bool>& pruned) {
  KeptStructure k;
  const size_t layers = static_cast<size_t>(space.num_layers);
  k.heads.resize(layers);
  k.kv_heads.resize(layers);
  k.channels.resize(layers);
  k.shapes.resize(layers);
  for (int64_t l = 0; l < space.num_layers; ++l) {
    auto& heads = k.heads[l];
    auto& kvs = k.kv_heads[l];
    for (int64_t u = 0; u < space.heads; ++u) {
      if (pruned[space.HeadUnit(l, u)]) continue;
      switch (space.kind) {
        case HeadUnitKind::kMha:
          heads.push_back(static_cast<int32_t>(u));
          kvs.push_back(static_cast<int32_t>(u));
          break;
        case HeadUnitKind::kQueryHead:
          heads.push_back(static_cast<int32_t>(u));
          break;
        case HeadUnitKind::kKvGroup:
          kvs.push_back(static_cast<int32_t>(u));
          for (int64_t g = 0; g < space.group; ++g) {
            heads.push_back(static_cast<int32_t>(u * space.group + g));
          }
          break;
      }
    }
    if (space.kind == HeadUnitKind::kQueryHead) {
      // K/V are never pruned with query-head units (the released code keeps them and counts
      // them as kept parameters), so every KV head stays.
      for (int64_t j = 0; j < dense.num_kv_heads; ++j) kvs.push_back(static_cast<int32_t>(j));
    }
    for (int64_t c = 0; c < space.channels; ++c) {
      if (!pruned[space.ChannelUnit(l, c)]) k.channels[l].push_back(static_cast<int32_t>(c));
    }
    LayerShape& shape = k.shapes[l];
    shape.n_heads = static_cast<int64_t>(heads.size());
    shape.n_kv_heads = static_cast<int64_t>(kvs.size());
    shape.intermediate = static_cast<int64_t>(k.channels[l].size());
    // kv_map over kept heads: position of each head's dense KV head among the kept KV heads.
    for (int32_t h : heads) {
      const int32_t dense_kv = static_cast<int32_t>(h / space.group);
      int32_t pos = 0;
      while (pos < static_cast<int32_t>(kvs.size()) && kvs[pos] != dense_kv) ++pos;
      shape.kv_map.push_back(pos);
    }
  }
  return k;
}

}  // namespace gisp
