#include "gisp/model/rope_table.h"

#include <cmath>

namespace gisp {

std::vector<double> RopeInverseFrequencies(const LlamaConfig& config) {
  const int64_t half = config.head_dim / 2;
  std::vector<double> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    inv[i] = 1.0 / std::pow(config.rope_theta, static_cast<double>(2 * i) / config.head_dim);
  }
  const RopeScaling& s = config.rope_scaling;
  switch (s.type) {
    case RopeScaling::Type::kNone:
      break;
    case RopeScaling::Type::kLinear:
      for (double& f : inv) f /= s.factor;
      break;
    case RopeScaling::Type::kLlama3: {
      // Llama 3.1: long wavelengths are slowed down by `factor`, short ones kept, and the band
      // in between interpolated linearly in 1 / wavelength.
      const double old_ctx = static_cast<double>(s.original_max_position_embeddings);
      const double low_freq_wavelen = old_ctx / s.low_freq_factor;
      const double high_freq_wavelen = old_ctx / s.high_freq_factor;
      for (double& f : inv) {
        const double wavelen = 2.0 * M_PI / f;
        if (wavelen < high_freq_wavelen) continue;
        if (wavelen > low_freq_wavelen) {
          f /= s.factor;
          continue;
        }
        const double smooth =
            (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        f = (1.0 - smooth) * f / s.factor + smooth * f;
      }
      break;
    }
  }
  return inv;
}

absl::StatusOr<RopeTable> MakeRopeTable(const LlamaConfig& config, int64_t positions, DType dtype) {
  const int64_t half = config.head_dim / 2;
  const std::vector<double> inv = RopeInverseFrequencies(config);
  RopeTable table;
  auto cos = Tensor::Host({positions, half}, DType::kF64);
  if (!cos.ok()) return cos.status();
  auto sin = Tensor::Host({positions, half}, DType::kF64);
  if (!sin.ok()) return sin.status();
  table.cos = std::move(cos).value();
  table.sin = std::move(sin).value();
  for (int64_t p = 0; p < positions; ++p) {
    for (int64_t i = 0; i < half; ++i) {
      const double angle = static_cast<double>(p) * inv[i];
      table.cos.data<double>()[p * half + i] = std::cos(angle);
      table.sin.data<double>()[p * half + i] = std::sin(angle);
    }
  }
  if (dtype == DType::kF64) return table;
  RopeTable converted;
  for (auto [src, dst] : {std::pair{&table.cos, &converted.cos}, {&table.sin, &converted.sin}}) {
    auto t = Tensor::Host(src->shape(), dtype);
    if (!t.ok()) return t.status();
    *dst = std::move(t).value();
    ConvertElements(DType::kF64, src->raw(), dtype, dst->raw(), static_cast<size_t>(src->numel()));
  }
  return converted;
}

}  // namespace gisp
