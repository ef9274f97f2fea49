// Regrouping a pruned layer's attention into uniform GQA groups, exactly.
//
// With query-head units a pruned layer can keep a different number of query heads per KV head
// (kv_map [0, 1, 1, 1]), which a format with one group size per layer (GGUF `deci`, DeciLM) or
// per model (a uniform Llama) cannot state. Two exact transformations fix that, and a group size
// G mixes them: a KV head read by c query heads becomes ceil(c / G) KV slots (its K/V rows
// duplicated), each with G query slots; query slots without a kept head are zero heads (zero q
// rows and zero o columns, so they add exactly nothing). KV heads no query head reads are
// dropped (their output is never used). G = the largest group is pure zero padding; G = 1 is
// pure K/V duplication; the caller picks the G with the fewest parameters.
#ifndef GISP_EXPORT_REGROUP_H_
#define GISP_EXPORT_REGROUP_H_

#include <cstdint>
#include <vector>

#include "gisp/model/config.h"

namespace gisp {

// One layer's attention as `kv_src.size()` KV slots of `group` query slots each.
struct GroupedLayout {
  int64_t group = 1;            // G: query slots per KV slot
  std::vector<int32_t> kv_src;  // [KV slots]: the sliced layer's KV head each slot copies, or -1
  std::vector<int32_t> q_src;   // [KV slots * G]: the sliced query head in each slot, or -1
};

// Query heads per KV head of `shape` ([n_kv_heads]).
std::vector<int64_t> GroupCounts(const LayerShape& shape);

// KV slots `shape` needs with group size `group` (sum over KV heads of ceil(c / G)).
int64_t KvSlots(const LayerShape& shape, int64_t group);

// The layout of `shape` with group size `group`, padded with empty KV slots (kv_src -1, all
// query slots -1) up to `kv_slots` (>= KvSlots(shape, group)).
GroupedLayout GroupLayer(const LayerShape& shape, int64_t group, int64_t kv_slots);

// Largest number of query heads any KV head of `shape` has (0 for a layer without heads).
int64_t MaxGroup(const LayerShape& shape);

}  // namespace gisp

#endif  // GISP_EXPORT_REGROUP_H_
