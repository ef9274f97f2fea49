#include "gisp/backend/cpu/gemm.h"

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "gisp/backend/cpu/signal_shield.h"

namespace gisp {

namespace {

// A primitive is tied to the OpenMP thread count it was created under (oneDNN partitions its
// work then), and a host may change the count between calls (gisp_context_set_num_threads).
struct Key {
  int64_t batch, m, n, k;
  bool trans_a, trans_b;
  float alpha, beta;
  int threads;
  bool operator==(const Key& o) const {
    return std::tie(batch, m, n, k, trans_a, trans_b, alpha, beta, threads) ==
           std::tie(o.batch, o.m, o.n, o.k, o.trans_a, o.trans_b, o.alpha, o.beta, o.threads);
  }
  template <typename H>
  friend H AbslHashValue(H h, const Key& key) {
    return H::combine(std::move(h), key.batch, key.m, key.n, key.k, key.trans_a, key.trans_b,
                      key.alpha, key.beta, key.threads);
  }
};

struct Entry {
  dnnl::matmul primitive;
  dnnl::memory::desc a, b, c;
  std::string impl;
};

}  // namespace

struct OneDnnGemm::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  absl::flat_hash_map<Key, Entry> cache;
  std::string last_impl;
};

OneDnnGemm::OneDnnGemm() : impl_(std::make_unique<Impl>()) {}
OneDnnGemm::~OneDnnGemm() = default;

absl::Status OneDnnGemm::Run(float* c, const float* a, bool trans_a, const float* b, bool trans_b,
                             int64_t batch, int64_t m, int64_t n, int64_t k, float alpha,
                             float beta) {
  if (m == 0 || n == 0) return absl::OkStatus();
  if (k == 0) {  // empty contraction: out = beta * out (pruning can empty a whole block)
    for (int64_t i = 0; i < batch * m * n; ++i) c[i] = beta == 0.0f ? 0.0f : beta * c[i];
    return absl::OkStatus();
  }
  const Key key{batch, m, n, k, trans_a, trans_b, alpha, beta, omp_get_max_threads()};
  auto it = impl_->cache.find(key);
  try {
    if (it == impl_->cache.end()) {
      using dims = dnnl::memory::dims;
      using dt = dnnl::memory::data_type;
      dnnl::memory::desc a_md({batch, m, k}, dt::f32,
                              trans_a ? dims{m * k, 1, m} : dims{m * k, k, 1});
      dnnl::memory::desc b_md({batch, k, n}, dt::f32,
                              trans_b ? dims{k * n, 1, k} : dims{k * n, n, 1});
      dnnl::memory::desc c_md({batch, m, n}, dt::f32, dims{m * n, n, 1});
      dnnl::primitive_attr attr;
      if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
      if (beta != 0.0f) {
        dnnl::post_ops ops;
        ops.append_sum(beta);
        attr.set_post_ops(ops);
      }
      dnnl::matmul::desc desc(a_md, b_md, c_md);
      dnnl::matmul::primitive_desc pd(desc, attr, impl_->engine);
      Entry entry{dnnl::matmul(pd), a_md, b_md, c_md, pd.impl_info_str()};
      it = impl_->cache.emplace(key, std::move(entry)).first;
    }
    Entry& e = it->second;
    dnnl::memory am(e.a, impl_->engine, const_cast<float*>(a));
    dnnl::memory bm(e.b, impl_->engine, const_cast<float*>(b));
    dnnl::memory cm(e.c, impl_->engine, c);
    ScopedSignalShield shield;  // see signal_shield.h: the JIT kernel's rsp may point at the heap
    e.primitive.execute(impl_->stream,
                        {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    impl_->stream.wait();
    impl_->last_impl = e.impl;
  } catch (const dnnl::error& err) {
    return absl::InternalError(absl::StrCat("oneDNN matmul [", batch, " x ", m, "x", k, " @ ", k,
                                            "x", n, "] failed: ", err.what()));
  }
  return absl::OkStatus();
}

std::string OneDnnGemm::last_implementation() const { return impl_->last_impl; }
size_t OneDnnGemm::cached_primitives() const { return impl_->cache.size(); }

std::string OneDnnVersion() {
  const dnnl_version_t* v = dnnl_version();
  return absl::StrCat(v->major, ".", v->minor, ".", v->patch);
}

}  // namespace gisp
