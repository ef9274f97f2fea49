#include "gisp/export/regroup.h"

#include <algorithm>

namespace gisp {

std::vector<int64_t> GroupCounts(const LayerShape& shape) {
  std::vector<int64_t> counts(static_cast<size_t>(shape.n_kv_heads), 0);
  for (int32_t kv : shape.kv_map) ++counts[static_cast<size_t>(kv)];
  return counts;
}

int64_t KvSlots(const LayerShape& shape, int64_t group) {
  int64_t slots = 0;
  for (int64_t c : GroupCounts(shape)) slots += (c + group - 1) / group;
  return slots;
}

int64_t MaxGroup(const LayerShape& shape) {
  const std::vector<int64_t> counts = GroupCounts(shape);
  return counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
}

GroupedLayout GroupLayer(const LayerShape& shape, int64_t group, int64_t kv_slots) {
  GroupedLayout out;
  out.group = group;
  // Query heads of each KV head, in the sliced order (which keeps the dense order).
  std::vector<std::vector<int32_t>> members(static_cast<size_t>(shape.n_kv_heads));
  for (size_t h = 0; h < shape.kv_map.size(); ++h) {
    members[static_cast<size_t>(shape.kv_map[h])].push_back(static_cast<int32_t>(h));
  }
  for (size_t kv = 0; kv < members.size(); ++kv) {
    const std::vector<int32_t>& m = members[kv];
    for (size_t first = 0; first < m.size(); first += static_cast<size_t>(group)) {
      out.kv_src.push_back(static_cast<int32_t>(kv));
      for (int64_t g = 0; g < group; ++g) {
        const size_t i = first + static_cast<size_t>(g);
        out.q_src.push_back(i < m.size() ? m[i] : -1);
      }
    }
  }
  while (static_cast<int64_t>(out.kv_src.size()) < kv_slots) {
    out.kv_src.push_back(-1);
    for (int64_t g = 0; g < group; ++g) out.q_src.push_back(-1);
  }
  return out;
}

}  // namespace gisp
