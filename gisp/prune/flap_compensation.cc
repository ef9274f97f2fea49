#include "gisp/prune/flap_compensation.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "gisp/base/dtype.h"
#include "gisp/prune/method.h"
#include "gisp/prune/prune_config.h"

namespace gisp {
namespace {

// out[i] += sum over `cols` of m[i, c] * x[c], for a host matrix m [R, C] of any float dtype;
// a row at a time in double.
void AddColumns(const Tensor& m, const std::vector<int64_t>& cols, const std::vector<float>& x,
                std::vector<double>* out) {
  const int64_t r = m.dim(0), c = m.dim(1);
  const size_t es = DTypeSize(m.dtype());
  std::vector<double> row(static_cast<size_t>(c));
  for (int64_t i = 0; i < r; ++i) {
    ConvertElements(m.dtype(), static_cast<const char*>(m.raw()) + i * c * es, DType::kF64,
                    row.data(), static_cast<size_t>(c));
    double s = 0;
    for (int64_t j : cols) {
      s += row[static_cast<size_t>(j)] * static_cast<double>(x[static_cast<size_t>(j)]);
    }
    (*out)[static_cast<size_t>(i)] += s;
  }
}

std::vector<float> ToFloat(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

}  // namespace

absl::StatusOr<FlapInputMeans> FlapInputMeansFromRecord(const proto::Record& record) {
  const absl::StatusOr<PruneConfig> config = PruneConfigFromProto(record.config());
  if (!config.ok()) return config.status();
  if (config->method != Method::kFlap) {
    return absl::InvalidArgumentError(
        absl::StrCat("the record is of method ", MethodName(config->method),
                     "; only method flap records bias compensation data"));
  }
  if (record.flap_input_means_size() == 0) {
    return absl::InvalidArgumentError(
        "the flap record has no flap_input_means (it has no completed step)");
  }
  FlapInputMeans means;
  for (const proto::LayerInputMeans& l : record.flap_input_means()) {
    means.o_proj.emplace_back(l.o_proj().begin(), l.o_proj().end());
    means.down_proj.emplace_back(l.down_proj().begin(), l.down_proj().end());
  }
  return means;
}

absl::StatusOr<FlapBiasDeltas> FlapCompensationDeltas(const LlamaConfig& dense,
                                                      const LlamaWeights& dense_weights,
                                                      const FlapInputMeans& means,
                                                      const KeptStructure& kept) {
  const int64_t layers = dense.num_layers, d = dense.hidden_size, dh = dense.head_dim;
  const int64_t attn = dense.num_heads * dh, f = dense.intermediate_size;
  if (static_cast<int64_t>(dense_weights.layers.size()) != layers ||
      static_cast<int64_t>(means.o_proj.size()) != layers ||
      static_cast<int64_t>(means.down_proj.size()) != layers ||
      static_cast<int64_t>(kept.heads.size()) != layers ||
      static_cast<int64_t>(kept.channels.size()) != layers) {
    return absl::InvalidArgumentError(absl::StrCat(
        "flap compensation: ", layers, " layers in the config, ", dense_weights.layers.size(),
        " in the weights, ", means.o_proj.size(), " + ", means.down_proj.size(), " in the means, ",
        kept.heads.size(), " in the kept structure"));
  }
  FlapBiasDeltas out;
  for (int64_t l = 0; l < layers; ++l) {
    const size_t li = static_cast<size_t>(l);
    const LayerWeights& w = dense_weights.layers[li];
    if (w.o_proj.rank() != 2 || w.o_proj.dim(0) != d || w.o_proj.dim(1) != attn ||
        w.down_proj.rank() != 2 || w.down_proj.dim(0) != d || w.down_proj.dim(1) != f ||
        static_cast<int64_t>(means.o_proj[li].size()) != attn ||
        static_cast<int64_t>(means.down_proj[li].size()) != f) {
      return absl::InvalidArgumentError(
          absl::StrCat("flap compensation: layer ", l, " needs dense o_proj [", d, ", ", attn,
                       "], down_proj [", d, ", ", f, "] and means of ", attn, " and ", f,
                       " columns; got ", w.o_proj.DebugString(), ", ", w.down_proj.DebugString(),
                       ", ", means.o_proj[li].size(), " and ", means.down_proj[li].size()));
    }
    // Pruned columns: those of the heads and channels `kept` leaves out.
    std::vector<bool> head_kept(static_cast<size_t>(dense.num_heads), false);
    for (int32_t h : kept.heads[li]) {
      if (h < 0 || h >= dense.num_heads) {
        return absl::InvalidArgumentError(absl::StrCat("flap compensation: layer ", l,
                                                       " keeps head ", h, " of ", dense.num_heads));
      }
      head_kept[static_cast<size_t>(h)] = true;
    }
    std::vector<bool> channel_kept(static_cast<size_t>(f), false);
    for (int32_t c : kept.channels[li]) {
      if (c < 0 || c >= f) {
        return absl::InvalidArgumentError(
            absl::StrCat("flap compensation: layer ", l, " keeps channel ", c, " of ", f));
      }
      channel_kept[static_cast<size_t>(c)] = true;
    }
    std::vector<int64_t> o_cols, d_cols;
    for (int64_t h = 0; h < dense.num_heads; ++h) {
      if (head_kept[static_cast<size_t>(h)]) continue;
      for (int64_t j = h * dh; j < (h + 1) * dh; ++j) o_cols.push_back(j);
    }
    for (int64_t c = 0; c < f; ++c) {
      if (!channel_kept[static_cast<size_t>(c)]) d_cols.push_back(c);
    }
    std::vector<double> od(static_cast<size_t>(d), 0.0), dd(static_cast<size_t>(d), 0.0);
    if (!o_cols.empty()) AddColumns(w.o_proj, o_cols, means.o_proj[li], &od);
    if (!d_cols.empty()) AddColumns(w.down_proj, d_cols, means.down_proj[li], &dd);
    out.o_proj.push_back(ToFloat(od));
    out.down_proj.push_back(ToFloat(dd));
  }
  return out;
}

}  // namespace gisp
