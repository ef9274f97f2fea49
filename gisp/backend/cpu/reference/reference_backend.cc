// The reference backend. Every verb is a template over the element type: f32 tensors (compared
// with the fast kernels) or f64 tensors (finite-difference checks of the backward formulas in
// double). Accumulation is always in double. Matrix products and row/column reductions are
// Eigen expressions over Maps of the tensors' buffers, converted to double first; the rest are
// the textbook loops. Eigen, not the fast kernels' oneDNN, so the oracle shares no code with
// what it checks.
#include "gisp/backend/cpu/reference/reference_backend.h"

#include <Eigen/Dense>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gisp/backend/checks.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

template <typename T>
T* P(const Tensor& t) {
  return t.data<T>();
}

// Row-major views of tensor memory (gisp tensors are contiguous, row-major).
template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <typename T>
using VectorMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>;

// The rows x cols matrix at `data`, converted to double.
template <typename T>
Eigen::MatrixXd ToDouble(const T* data, int64_t rows, int64_t cols) {
  return Eigen::Map<const Matrix<T>>(data, rows, cols).template cast<double>();
}
template <typename T>
Eigen::VectorXd ToDouble(const T* data, int64_t n) {
  return Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(data, n).template cast<double>();
}

template <typename T>
void GemmImpl(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b, bool trans_b,
              double alpha, double beta, const checks::GemmDims& d) {
  for (int64_t bi = 0; bi < d.batch; ++bi) {
    // op(A) is m x k and op(B) k x n; a transposed operand is stored the other way round.
    Eigen::MatrixXd op_a =
        ToDouble(P<T>(a) + bi * d.m * d.k, trans_a ? d.k : d.m, trans_a ? d.m : d.k);
    Eigen::MatrixXd op_b =
        ToDouble(P<T>(b) + bi * d.k * d.n, trans_b ? d.n : d.k, trans_b ? d.k : d.n);
    if (trans_a) op_a.transposeInPlace();
    if (trans_b) op_b.transposeInPlace();
    MatrixMap<T> c(P<T>(out) + bi * d.m * d.n, d.m, d.n);
    Eigen::MatrixXd result = alpha * (op_a * op_b);
    // beta == 0 never reads C, which may be uninitialized.
    if (beta != 0.0) result += beta * c.template cast<double>();
    c = result.cast<T>();
  }
}

template <typename T>
void RmsNormForwardImpl(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                        const Tensor& weight, double eps) {
  const int64_t n = x.dim(0), dm = x.dim(1);
  const Eigen::MatrixXd xd = ToDouble(P<T>(x), n, dm);
  const Eigen::VectorXd r =
      ((xd.rowwise().squaredNorm().array() / static_cast<double>(dm)) + eps).sqrt().inverse();
  VectorMap<T>(P<T>(inv_rms), n) = r.cast<T>();
  MatrixMap<T>(P<T>(out), n, dm) =
      (r.asDiagonal() * xd * ToDouble(P<T>(weight), dm).asDiagonal()).template cast<T>();
}

template <typename T>
void RmsNormBackwardImpl(const Tensor& d_x, const Tensor& d_weight, const Tensor& d_out,
                         const Tensor& x, const Tensor& weight, const Tensor& inv_rms) {
  const int64_t n = x.dim(0), dm = x.dim(1);
  const Eigen::MatrixXd xd = ToDouble(P<T>(x), n, dm), g = ToDouble(P<T>(d_out), n, dm);
  const Eigen::VectorXd w = ToDouble(P<T>(weight), dm), r = ToDouble(P<T>(inv_rms), n);
  const Eigen::MatrixXd gx = g.cwiseProduct(xd);
  // dx = g w r - x r^3 (sum_c g w x) / dm per row; dw = sum over rows of g x r.
  const Eigen::VectorXd dot = gx * w;
  const Eigen::VectorXd coef = r.array().cube() * dot.array() / static_cast<double>(dm);
  MatrixMap<T> dx(P<T>(d_x), n, dm);
  dx = (dx.template cast<double>() + r.asDiagonal() * g * w.asDiagonal() - coef.asDiagonal() * xd)
           .template cast<T>();
  if (!d_weight.empty()) {
    VectorMap<T> dw(P<T>(d_weight), dm);
    dw = (dw.template cast<double>() + gx.transpose() * r).template cast<T>();
  }
}

template <typename T>
void RopeImpl(const Tensor& x, const Tensor& cos, const Tensor& sin, int64_t pos_offset,
              bool inverse) {
  const int64_t bsz = x.dim(0), t = x.dim(1), h = x.dim(2), dh = x.dim(3), half = dh / 2;
  const double sign = inverse ? -1.0 : 1.0;
  for (int64_t b = 0; b < bsz; ++b) {
    for (int64_t ti = 0; ti < t; ++ti) {
      const T* c = P<T>(cos) + (pos_offset + ti) * half;
      const T* s = P<T>(sin) + (pos_offset + ti) * half;
      for (int64_t hi = 0; hi < h; ++hi) {
        T* p = P<T>(x) + ((b * t + ti) * h + hi) * dh;
        for (int64_t i = 0; i < half; ++i) {
          const double x1 = p[i], x2 = p[i + half];
          p[i] = static_cast<T>(x1 * c[i] - sign * x2 * s[i]);
          p[i + half] = static_cast<T>(x2 * c[i] + sign * x1 * s[i]);
        }
      }
    }
  }
}

template <typename T>
void AttentionForwardImpl(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k,
                          const Tensor& v, absl::Span<const int32_t> kv_map, double scale,
                          const checks::AttentionDims& d) {
  std::vector<double> s(static_cast<size_t>(d.tk));
  for (int64_t b = 0; b < d.b; ++b) {
    for (int64_t h = 0; h < d.hq; ++h) {
      const int64_t kvh = kv_map[h];
      for (int64_t t = 0; t < d.tq; ++t) {
        const int64_t last = d.tk - d.tq + t;  // last visible key
        const T* qp = P<T>(q) + ((b * d.tq + t) * d.hq + h) * d.dh;
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j <= last; ++j) {
          const T* kp = P<T>(k) + ((b * d.tk + j) * d.kv + kvh) * d.dh;
          double acc = 0;
          for (int64_t e = 0; e < d.dh; ++e) acc += static_cast<double>(qp[e]) * kp[e];
          s[j] = acc * scale;
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j <= last; ++j) sum += std::exp(s[j] - mx);
        const double l = mx + std::log(sum);
        P<T>(lse)[(b * d.hq + h) * d.tq + t] = static_cast<T>(l);
        T* op = P<T>(out) + ((b * d.tq + t) * d.hq + h) * d.dh;
        for (int64_t e = 0; e < d.dh; ++e) {
          double acc = 0;
          for (int64_t j = 0; j <= last; ++j) {
            acc += std::exp(s[j] - l) * P<T>(v)[((b * d.tk + j) * d.kv + kvh) * d.dh + e];
          }
          op[e] = static_cast<T>(acc);
        }
      }
    }
  }
}

template <typename T>
void AttentionBackwardImpl(const Tensor& d_q, const Tensor& d_k, const Tensor& d_v,
                           const Tensor& d_out, const Tensor& q, const Tensor& k, const Tensor& v,
                           const Tensor& lse, absl::Span<const int32_t> kv_map, double scale,
                           const checks::AttentionDims& d) {
  // Probabilities are recomputed in double from q and k (not from the f32 lse) so the f64
  // finite-difference checks see an exact backward.
  std::vector<double> dk(static_cast<size_t>(k.numel()), 0.0), dv(dk.size(), 0.0);
  std::vector<double> s(static_cast<size_t>(d.tk)), dp(s.size()), dq(static_cast<size_t>(d.dh));
  (void)lse;
  for (int64_t b = 0; b < d.b; ++b) {
    for (int64_t h = 0; h < d.hq; ++h) {
      const int64_t kvh = kv_map[h];
      for (int64_t t = 0; t < d.tq; ++t) {
        const int64_t last = d.tk - d.tq + t;
        const T* qp = P<T>(q) + ((b * d.tq + t) * d.hq + h) * d.dh;
        const T* gp = P<T>(d_out) + ((b * d.tq + t) * d.hq + h) * d.dh;
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j <= last; ++j) {
          const T* kp = P<T>(k) + ((b * d.tk + j) * d.kv + kvh) * d.dh;
          const T* vp = P<T>(v) + ((b * d.tk + j) * d.kv + kvh) * d.dh;
          double sj = 0, dpj = 0;
          for (int64_t e = 0; e < d.dh; ++e) {
            sj += static_cast<double>(qp[e]) * kp[e];
            dpj += static_cast<double>(gp[e]) * vp[e];
          }
          s[j] = sj * scale;
          dp[j] = dpj;
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j <= last; ++j) sum += std::exp(s[j] - mx);
        const double l = mx + std::log(sum);
        double dsum = 0;
        for (int64_t j = 0; j <= last; ++j) {
          s[j] = std::exp(s[j] - l);  // probability
          dsum += s[j] * dp[j];
        }
        std::fill(dq.begin(), dq.end(), 0.0);
        for (int64_t j = 0; j <= last; ++j) {
          const double ds = s[j] * (dp[j] - dsum) * scale;
          const int64_t base = ((b * d.tk + j) * d.kv + kvh) * d.dh;
          for (int64_t e = 0; e < d.dh; ++e) {
            dq[e] += ds * P<T>(k)[base + e];
            dk[base + e] += ds * qp[e];
            dv[base + e] += s[j] * gp[e];
          }
        }
        T* dqp = P<T>(d_q) + ((b * d.tq + t) * d.hq + h) * d.dh;
        for (int64_t e = 0; e < d.dh; ++e) dqp[e] = static_cast<T>(dq[e]);
      }
    }
  }
  for (size_t i = 0; i < dk.size(); ++i) {
    P<T>(d_k)[i] = static_cast<T>(dk[i]);
    P<T>(d_v)[i] = static_cast<T>(dv[i]);
  }
}

template <typename T>
absl::Status CrossEntropyImpl(const Tensor& nll, const Tensor& d_logits, const Tensor& logits,
                              const Tensor& targets, const Tensor& weights) {
  const int64_t n = logits.dim(0), vsz = logits.dim(1);
  std::vector<double> row(static_cast<size_t>(vsz));
  for (int64_t i = 0; i < n; ++i) {
    const int32_t target = targets.i32()[i];
    GISP_CHECK_ARG(target >= -1 && target < vsz, "CrossEntropy: target ", target, " at row ", i,
                   " outside [0, ", vsz, ")");
    for (int64_t c = 0; c < vsz; ++c) row[c] = P<T>(logits)[i * vsz + c];  // d_logits may alias
    double mx = -std::numeric_limits<double>::infinity();
    for (double x : row) mx = std::max(mx, x);
    double sum = 0;
    for (double x : row) sum += std::exp(x - mx);
    const double l = mx + std::log(sum);
    P<T>(nll)[i] = target < 0 ? T(0) : static_cast<T>(l - row[target]);
    if (!d_logits.empty()) {
      const double w = target < 0 ? 0.0 : static_cast<double>(P<T>(weights)[i]);
      for (int64_t c = 0; c < vsz; ++c) {
        const double g = std::exp(row[c] - l) - (c == target ? 1.0 : 0.0);
        P<T>(d_logits)[i * vsz + c] = static_cast<T>(w * g);
      }
    }
  }
  return absl::OkStatus();
}

template <typename T>
void AbsProdSumImpl(const Tensor& out, const Tensor& w, const Tensor& g, int64_t rows, int64_t cols,
                    bool by_row) {
  const Eigen::MatrixXd prod =
      ToDouble(P<T>(w), rows, cols).cwiseProduct(ToDouble(P<T>(g), rows, cols)).cwiseAbs();
  if (by_row) {
    VectorMap<double>(out.data<double>(), rows) = prod.rowwise().sum();
  } else {
    VectorMap<double>(out.data<double>(), cols) = prod.colwise().sum().transpose();
  }
}

template <typename T>
void ColumnSumImpl(const Tensor& d_bias, const Tensor& d_y) {
  const int64_t cols = d_bias.dim(0), rows = cols > 0 ? d_y.numel() / cols : 0;
  VectorMap<T> db(P<T>(d_bias), cols);
  db = (db.template cast<double>() + ToDouble(P<T>(d_y), rows, cols).colwise().sum().transpose())
           .template cast<T>();
}

class ReferenceBackend final : public Backend {
 public:
  Device device() const override { return Device::Cpu(); }
  std::string name() const override { return "reference (double accumulation)"; }
  bool SupportsComputeDType(DType dtype) const override {
    return dtype == DType::kF32 || dtype == DType::kF64;
  }
  bool SupportsStorageDType(DType dtype) const override { return SupportsComputeDType(dtype); }

 protected:
  absl::StatusOr<Tensor> DoAllocate(Shape shape, DType dtype) override {
    return Tensor::HostUninitialized(std::move(shape), dtype);
  }
  absl::StatusOr<MemoryInfo> DoQueryMemory() override {
    // The oracle runs small models only; report a fixed, modest budget so callers size their
    // chunks the same way on every machine.
    return MemoryInfo{int64_t{1} << 30, int64_t{1} << 30};
  }
  absl::Status DoUpload(const Tensor& out, const Tensor& src) override { return Convert(out, src); }
  absl::Status DoDownload(const Tensor& out, const Tensor& src) override {
    return Convert(out, src);
  }
  absl::Status DoCopy(const Tensor& out, const Tensor& src) override { return Convert(out, src); }

  absl::Status DoFill(const Tensor& out, float value) override {
    for (int64_t i = 0; i < out.numel(); ++i) Set(out, i, value);
    return absl::OkStatus();
  }

  absl::Status DoSynchronize() override { return absl::OkStatus(); }

  absl::Status DoGemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b,
                      bool trans_b, float alpha, float beta) override {
    checks::GemmDims d;
    GISP_RETURN_IF_ERROR(checks::Gemm(out, a, trans_a, b, trans_b, &d));
    if (out.dtype() == DType::kF64) {
      GemmImpl<double>(out, a, trans_a, b, trans_b, alpha, beta, d);
    } else {
      GemmImpl<float>(out, a, trans_a, b, trans_b, alpha, beta, d);
    }
    return absl::OkStatus();
  }

  absl::Status DoAdd(const Tensor& out, const Tensor& a, const Tensor& b) override {
    return Elementwise(out.dtype(), out.numel(), [&](auto* tag, int64_t i) {
      using T = std::remove_pointer_t<decltype(tag)>;
      P<T>(out)[i] = static_cast<T>(static_cast<double>(P<T>(a)[i]) + P<T>(b)[i]);
    });
  }

  absl::Status DoAxpy(const Tensor& y, float alpha, const Tensor& x) override {
    return Elementwise(y.dtype(), y.numel(), [&](auto* tag, int64_t i) {
      using T = std::remove_pointer_t<decltype(tag)>;
      P<T>(y)[i] = static_cast<T>(P<T>(y)[i] + static_cast<double>(alpha) * P<T>(x)[i]);
    });
  }

  absl::Status DoEmbeddingForward(const Tensor& out, const Tensor& table,
                                  const Tensor& ids) override {
    const int64_t n = out.dim(0), dm = out.dim(1);
    const size_t es = DTypeSize(out.dtype());
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(static_cast<char*>(out.raw()) + i * dm * es,
                  static_cast<const char*>(table.raw()) + ids.i32()[i] * dm * es, dm * es);
    }
    return absl::OkStatus();
  }

  absl::Status DoEmbeddingBackward(const Tensor& d_table, const Tensor& d_out,
                                   const Tensor& ids) override {
    const int64_t n = d_out.dim(0), dm = d_out.dim(1), v = d_table.dim(0);
    std::vector<double> acc(static_cast<size_t>(v * dm), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t c = 0; c < dm; ++c) acc[ids.i32()[i] * dm + c] += Get(d_out, i * dm + c);
    }
    for (int64_t i = 0; i < v * dm; ++i) Set(d_table, i, Get(d_table, i) + acc[i]);
    return absl::OkStatus();
  }

  absl::Status DoRmsNormForward(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                                const Tensor& weight, float eps) override {
    if (x.dtype() == DType::kF64) {
      RmsNormForwardImpl<double>(out, inv_rms, x, weight, eps);
    } else {
      RmsNormForwardImpl<float>(out, inv_rms, x, weight, eps);
    }
    return absl::OkStatus();
  }

  absl::Status DoRmsNormBackward(const Tensor& d_x, const Tensor& d_weight, const Tensor& d_out,
                                 const Tensor& x, const Tensor& weight,
                                 const Tensor& inv_rms) override {
    if (x.dtype() == DType::kF64) {
      RmsNormBackwardImpl<double>(d_x, d_weight, d_out, x, weight, inv_rms);
    } else {
      RmsNormBackwardImpl<float>(d_x, d_weight, d_out, x, weight, inv_rms);
    }
    return absl::OkStatus();
  }

  absl::Status DoRope(const Tensor& x, const Tensor& cos, const Tensor& sin, int64_t pos_offset,
                      bool inverse) override {
    if (x.dtype() == DType::kF64) {
      RopeImpl<double>(x, cos, sin, pos_offset, inverse);
    } else {
      RopeImpl<float>(x, cos, sin, pos_offset, inverse);
    }
    return absl::OkStatus();
  }

  absl::Status DoAttentionForward(const Tensor& out, const Tensor& lse, const Tensor& q,
                                  const Tensor& k, const Tensor& v, const IndexList& kv_map,
                                  float scale) override {
    checks::AttentionDims d;
    GISP_RETURN_IF_ERROR(checks::Attention(out, lse, q, k, v, kv_map, &d));
    if (q.dtype() == DType::kF64) {
      AttentionForwardImpl<double>(out, lse, q, k, v, Host(kv_map), scale, d);
    } else {
      AttentionForwardImpl<float>(out, lse, q, k, v, Host(kv_map), scale, d);
    }
    return absl::OkStatus();
  }

  absl::Status DoAttentionBackward(const Tensor& d_q, const Tensor& d_k, const Tensor& d_v,
                                   const Tensor& d_out, const Tensor& q, const Tensor& k,
                                   const Tensor& v, const Tensor& out, const Tensor& lse,
                                   const IndexList& kv_map, float scale) override {
    checks::AttentionDims d;
    GISP_RETURN_IF_ERROR(checks::Attention(out, lse, q, k, v, kv_map, &d));
    if (q.dtype() == DType::kF64) {
      AttentionBackwardImpl<double>(d_q, d_k, d_v, d_out, q, k, v, lse, Host(kv_map), scale, d);
    } else {
      AttentionBackwardImpl<float>(d_q, d_k, d_v, d_out, q, k, v, lse, Host(kv_map), scale, d);
    }
    return absl::OkStatus();
  }

  absl::Status DoSwigluForward(const Tensor& out, const Tensor& gate, const Tensor& up) override {
    return Elementwise(out.dtype(), out.numel(), [&](auto* tag, int64_t i) {
      using T = std::remove_pointer_t<decltype(tag)>;
      const double g = P<T>(gate)[i];
      P<T>(out)[i] = static_cast<T>(g / (1.0 + std::exp(-g)) * P<T>(up)[i]);
    });
  }

  absl::Status DoSwigluBackward(const Tensor& d_gate, const Tensor& d_up, const Tensor& d_out,
                                const Tensor& gate, const Tensor& up) override {
    return Elementwise(gate.dtype(), gate.numel(), [&](auto* tag, int64_t i) {
      using T = std::remove_pointer_t<decltype(tag)>;
      const double g = P<T>(gate)[i], u = P<T>(up)[i], dy = P<T>(d_out)[i];
      const double sig = 1.0 / (1.0 + std::exp(-g));
      P<T>(d_gate)[i] = static_cast<T>(dy * u * sig * (1.0 + g * (1.0 - sig)));
      P<T>(d_up)[i] = static_cast<T>(dy * g * sig);
    });
  }

  absl::Status DoCrossEntropy(const Tensor& nll, const Tensor& d_logits, const Tensor& logits,
                              const Tensor& targets, const Tensor& weights) override {
    if (logits.dtype() == DType::kF64) {
      return CrossEntropyImpl<double>(nll, d_logits, logits, targets, weights);
    }
    return CrossEntropyImpl<float>(nll, d_logits, logits, targets, weights);
  }

  absl::Status DoAddBias(const Tensor& y, const Tensor& bias) override {
    const int64_t cols = bias.dim(0), total = y.numel();
    for (int64_t i = 0; i < total; ++i) Set(y, i, Get(y, i) + Get(bias, i % cols));
    return absl::OkStatus();
  }

  absl::Status DoColumnSum(const Tensor& d_bias, const Tensor& d_y) override {
    if (d_y.dtype() == DType::kF64) {
      ColumnSumImpl<double>(d_bias, d_y);
    } else {
      ColumnSumImpl<float>(d_bias, d_y);
    }
    return absl::OkStatus();
  }

  absl::Status DoAbsProdRowSum(const Tensor& out, const Tensor& w, const Tensor& g) override {
    return AbsProdSum(out, w, g, true);
  }

  absl::Status DoAbsProdColSum(const Tensor& out, const Tensor& w, const Tensor& g) override {
    return AbsProdSum(out, w, g, false);
  }

  absl::Status DoGatherRows(const Tensor& out, const Tensor& in, const IndexList& rows) override {
    const int64_t c = Cols(in);
    const size_t es = DTypeSize(in.dtype());
    const absl::Span<const int32_t> idx = Host(rows);
    for (size_t i = 0; i < idx.size(); ++i) {
      std::memcpy(static_cast<char*>(out.raw()) + i * c * es,
                  static_cast<const char*>(in.raw()) + idx[i] * c * es, c * es);
    }
    return absl::OkStatus();
  }

  absl::Status DoGatherCols(const Tensor& out, const Tensor& in, const IndexList& cols) override {
    const absl::Span<const int32_t> idx = Host(cols);
    const int64_t n = static_cast<int64_t>(idx.size());
    const size_t es = DTypeSize(in.dtype());
    for (int64_t i = 0; i < in.dim(0); ++i) {
      for (int64_t j = 0; j < n; ++j) {
        std::memcpy(static_cast<char*>(out.raw()) + (i * n + j) * es,
                    static_cast<const char*>(in.raw()) + (i * in.dim(1) + idx[j]) * es, es);
      }
    }
    return absl::OkStatus();
  }

  absl::Status DoZeroRows(const Tensor& t, const IndexList& rows) override {
    const int64_t c = Cols(t);
    const size_t es = DTypeSize(t.dtype());
    for (int32_t i : Host(rows)) std::memset(static_cast<char*>(t.raw()) + i * c * es, 0, c * es);
    return absl::OkStatus();
  }

  absl::Status DoZeroCols(const Tensor& t, const IndexList& cols) override {
    const size_t es = DTypeSize(t.dtype());
    for (int64_t i = 0; i < t.dim(0); ++i) {
      for (int32_t j : Host(cols)) {
        std::memset(static_cast<char*>(t.raw()) + (i * t.dim(1) + j) * es, 0, es);
      }
    }
    return absl::OkStatus();
  }

 private:
  static double Get(const Tensor& t, int64_t i) {
    return t.dtype() == DType::kF64 ? t.data<double>()[i] : t.f32()[i];
  }
  static void Set(const Tensor& t, int64_t i, double v) {
    if (t.dtype() == DType::kF64) {
      t.data<double>()[i] = v;
    } else {
      t.f32()[i] = static_cast<float>(v);
    }
  }

  template <typename Fn>
  static absl::Status Elementwise(DType dt, int64_t n, Fn fn) {
    for (int64_t i = 0; i < n; ++i) {
      if (dt == DType::kF64) {
        fn(static_cast<double*>(nullptr), i);
      } else {
        fn(static_cast<float*>(nullptr), i);
      }
    }
    return absl::OkStatus();
  }

  static absl::Span<const int32_t> Host(const IndexList& list) {
    return list.size() == 0 ? absl::Span<const int32_t>()
                            : absl::MakeConstSpan(list.values.i32(), list.size());
  }
  static int64_t Cols(const Tensor& t) { return t.rank() == 1 ? 1 : t.dim(1); }

  static absl::Status Convert(const Tensor& out, const Tensor& src) {
    ConvertElements(src.dtype(), src.raw(), out.dtype(), out.raw(),
                    static_cast<size_t>(src.numel()));
    return absl::OkStatus();
  }

  absl::Status AbsProdSum(const Tensor& out, const Tensor& w, const Tensor& g, bool by_row) {
    const int64_t rows = w.dim(0), cols = Cols(w);
    if (g.dtype() == DType::kF64) {
      AbsProdSumImpl<double>(out, w, g, rows, cols, by_row);
    } else {
      AbsProdSumImpl<float>(out, w, g, rows, cols, by_row);
    }
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<Backend> NewReferenceBackend() { return std::make_unique<ReferenceBackend>(); }

}  // namespace gisp
