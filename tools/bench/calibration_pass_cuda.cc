// GPU benchmark: one GISP calibration pass (forward + backward with gradients accumulated into
// every decoder linear weight, GradRequest::Layers(config, kParamLinears)) on a full-size
// Llama-2-7B or Llama-3-8B shape with random bf16 weights, optionally against HF transformers +
// PyTorch doing the same pass on the same GPU (tools/bench/torch_gpu_calibration_pass.py).
//
//   calibration_pass_cuda --shape=llama3-8b --device=cuda --torch        # on the GPU machine
//   bazel run //tools/bench:calibration_pass_cuda -- --shape=small --device=cpu   # smoke test
//
// tools/gpu_check.sh packs it and runs it on the GPU machine; docs/benchmarks.md ("GPU
// calibration pass") describes the output and the formulas printed with it.
//
// What is timed: after one warm-up batch (not timed), ForwardBackward over all --sequences
// sequences in batches of --batch, then Backend::Synchronize. Host batches are built before the
// clock starts; token upload is part of the pass, as in a real run.
//
// Weights: random, generated on the host directly in bf16 (2 bytes per parameter: 16 GB for
// Llama-3-8B, never an f32 copy of the model) by a counter-based hash per element, so every
// element is independent and the fill runs in parallel and is the same for any thread count.
// They are then uploaded by LlamaModel::Create with Options::weight_dtype. Generating them on the
// device instead would need a "fill random" backend verb, which the Backend interface does not
// have (and a benchmark is no reason to add one).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "gisp/backend/backend.h"
#include "gisp/backend/profiling_backend.h"
#include "gisp/model/grad_request.h"
#include "gisp/model/llama_model.h"
#include "gisp/testing/random_model.h"

ABSL_FLAG(std::string, shape, "llama3-8b",
          "llama2-7b (L=32 D=4096 H=KV=32 F=11008 V=32000), llama3-8b (L=32 D=4096 H=32 KV=8 "
          "F=14336 V=128256) or small (L=2 D=128 H=4 KV=2 F=352 V=2048, for trying the tool on a CPU in seconds)");
ABSL_FLAG(std::string, device, "cuda", "cuda (CreateCudaBackend(0)) or cpu");
ABSL_FLAG(int64_t, seq, 256, "tokens per sequence (T)");
ABSL_FLAG(int64_t, batch, 0, "sequences per batch (B); 0 = 8 on cuda, 4 on cpu");
ABSL_FLAG(int64_t, sequences, 64, "sequences in the timed calibration pass (a multiple of B)");
ABSL_FLAG(std::string, weights, "auto",
          "storage dtype of the large weights on the device: bf16, f32, or auto (bf16 where the "
          "backend stores bf16, else f32)");
ABSL_FLAG(int64_t, keep_activation_bytes, -1,
          "LlamaModel::Options::keep_activation_bytes (-1: automatic, 0: recompute every layer)");
ABSL_FLAG(bool, torch, false, "also run the HF transformers + PyTorch baseline on the same GPU");
ABSL_FLAG(std::string, python, "python3", "interpreter with torch + transformers for --torch");
ABSL_FLAG(std::string, torch_args, "",
          "extra arguments for the PyTorch script, e.g. \"--attn eager\" where SDPA is missing");
ABSL_FLAG(std::string, torch_script, "tools/bench/torch_gpu_calibration_pass.py",
          "the PyTorch baseline script (relative to the working directory)");
ABSL_FLAG(bool, profile, false,
          "print gisp's per-verb time profile (synchronizes after every verb, so the timed pass "
          "is slower with it)");
ABSL_FLAG(double, peak_tflops, 989.0,
          "the device's dense peak in TFLOP/s for the utilisation figure (default: H200 SXM dense "
          "BF16 tensor-core peak, 989)");
ABSL_FLAG(int64_t, project_steps, 112, "projection: pruning steps of the full run");
ABSL_FLAG(double, project_ratio, 0.7, "projection: final decoder sparsity of the full run");
ABSL_FLAG(int64_t, project_windows, 2000, "projection: calibration sequences per step");
ABSL_FLAG(uint64_t, seed, 1, "weights and token seed");

namespace gisp {
namespace {

using Clock = std::chrono::steady_clock;

// Exit code when the requested backend cannot be created here (no CUDA build, no GPU, backend
// not implemented): tools/gpu_check.sh reports it as SKIP, or as FAIL where a GPU is present.
constexpr int kExitUnavailable = 77;

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double GiB(double bytes) { return bytes / (1024.0 * 1024.0 * 1024.0); }

absl::StatusOr<LlamaConfig> ShapeConfig(const std::string& shape, int64_t seq) {
  LlamaConfig c;
  if (shape == "llama2-7b") {
    c = testing::SmallConfig(32000, 4096, 32, 32, 32, 128, 11008);
    c.rope_theta = 10000.0;
    c.max_position_embeddings = 4096;
  } else if (shape == "llama3-8b") {
    c = testing::SmallConfig(128256, 4096, 32, 32, 8, 128, 14336);
    c.rope_theta = 500000.0;
    c.max_position_embeddings = 8192;
  } else if (shape == "small") {
    c = testing::SmallConfig(2048, 128, 2, 4, 2, 32, 352);
    c.rope_theta = 10000.0;
    c.max_position_embeddings = 2048;
  } else {
    return absl::InvalidArgumentError("--shape must be llama2-7b, llama3-8b or small, not '" +
                                      shape + "'");
  }
  c.rms_norm_eps = 1e-5;
  c.torch_dtype = DType::kBF16;
  c.max_position_embeddings = std::max(c.max_position_embeddings, seq);
  return c;
}

// ---- Random bf16 weights --------------------------------------------------------------------

// splitmix64's finalizer: a bijective 64-bit mix, so (stream, index) -> 64 independent-looking
// bits with no state between elements.
inline uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Approximately N(0, 1): the sum of four 16-bit uniforms (Irwin-Hall, n = 4), centred and
// scaled to unit variance. Tails stop at +-3.46 sigma, which is irrelevant for a benchmark.
inline float ApproxNormal(uint64_t bits) {
  const float s = static_cast<float>((bits & 0xffff) + ((bits >> 16) & 0xffff) +
                                     ((bits >> 32) & 0xffff) + (bits >> 48));
  // mean 4 * 32767.5, variance 4 * (65536^2 - 1) / 12
  return (s - 131070.0f) * (1.0f / 37837.23f);
}

// f32 -> bf16 bits, round to nearest even (inputs are finite).
inline uint16_t ToBF16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// Host bf16 weights for `config`: linears and embeddings ~ N(0, 0.02) (HF's initializer_range
// for Llama), norms 1. Each tensor gets its own stream (its position in ParameterSpecs).
absl::StatusOr<LlamaWeights> RandomBF16Weights(const LlamaConfig& config, uint64_t seed) {
  LlamaWeights w;
  const std::vector<ParameterSpec> specs = ParameterSpecs(config);
  absl::Status status;
  uint64_t stream = 0;
  ForEachParameter(config, &w, [&](const std::string& name, Tensor* t) {
    ++stream;
    if (!status.ok()) return;
    Shape shape;
    for (const ParameterSpec& spec : specs) {
      if (spec.name == name) shape = spec.shape;
    }
    auto host = Tensor::HostUninitialized(shape, DType::kBF16);
    if (!host.ok()) {
      status = host.status();
      return;
    }
    *t = std::move(host).value();
    uint16_t* p = t->data<uint16_t>();
    const int64_t n = t->numel();
    if (name.find("norm") != std::string::npos) {
      std::fill(p, p + n, ToBF16(1.0f));
      return;
    }
    const float scale = name.find("bias") != std::string::npos ? 0.0f : 0.02f;
    const uint64_t base = Mix(seed * 0x9e3779b97f4a7c15ULL + stream) << 1;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      p[i] = ToBF16(scale * ApproxNormal(Mix(base + static_cast<uint64_t>(i) * 0x632be59bd9b4e019ULL)));
    }
  });
  if (!status.ok()) return status;
  if (config.tie_word_embeddings) w.lm_head = w.embed;
  return w;
}

// ---- Model FLOPs ----------------------------------------------------------------------------

// Model FLOPs of one ForwardBackward over B sequences of T tokens (N = B*T) with gradients for
// every decoder linear weight (docs/benchmarks.md, "GPU calibration pass", has the same text):
//   linears    6 * N * P_lin   forward 2NP, input gradients 2NP, weight gradients 2NP, with
//                              P_lin = L * (D*H*Dh + 2*D*KV*Dh + H*Dh*D + 3*D*F)
//   attention  3 * L * 2*B*H*T^2*Dh   forward QK^T and PV (2 * 2*T*T*Dh per head and sequence)
//                              halved for the causal mask; backward counted as twice forward
//   lm_head    4 * N * V * D   forward 2NVD + input gradient 2NVD (its weight gradient is not
//                              requested)
// Not counted: recomputation of checkpointed layers, norms, RoPE, SwiGLU, softmax and the loss.
struct PassFlops {
  double linears = 0, attention = 0, head = 0;
  double decoder() const { return linears + attention; }
  double total() const { return linears + attention + head; }
};

PassFlops CountFlops(const LlamaConfig& c, int64_t b, int64_t t) {
  const double n = static_cast<double>(b) * static_cast<double>(t);
  const double d = c.hidden_size, dh = c.head_dim, f = c.intermediate_size;
  const double h = c.num_heads, kv = c.num_kv_heads, l = c.num_layers;
  PassFlops p;
  const double p_lin = l * (d * h * dh + 2 * d * kv * dh + h * dh * d + 3 * d * f);
  p.linears = 6.0 * n * p_lin;
  p.attention = 3.0 * l * 2.0 * b * h * static_cast<double>(t) * t * dh;
  p.head = 4.0 * n * c.vocab_size * d;
  return p;
}

// Projection of the paper's full run from the measured dense throughput. Step k (k = 1..S)
// computes the calibration gradients of the model pruned to s_{k-1} = R*(k-1)/S and prunes it to
// s_k; with compaction, the decoder's model FLOPs at sparsity s are (1 - s) times the dense ones
// (decoder sparsity counts decoder parameters; heads and channels shrink attention and MLP
// alike), while the lm_head's do not shrink. At the measured dense throughput (same FLOP rate at
// every width, which is optimistic for the small late steps) one step costs
//   t_k = t_dense * (f_dec * (1 - s_{k-1}) + (1 - f_dec)),  t_dense = W*T / tokens_per_s,
// with f_dec the decoder's share of the pass's model FLOPs, and the run sum_k t_k. Scoring,
// ranking and surgery between passes are not included.
struct Projection {
  double dense_pass_s = 0, total_s = 0, mean_relative_cost = 0;
};

Projection Project(double tokens_per_s, int64_t t, const PassFlops& flops, int64_t steps,
                   double ratio, int64_t windows) {
  Projection p;
  p.dense_pass_s = static_cast<double>(windows) * static_cast<double>(t) / tokens_per_s;
  const double f_dec = flops.decoder() / flops.total();
  double sum = 0;
  for (int64_t k = 1; k <= steps; ++k) {
    const double s = ratio * static_cast<double>(k - 1) / static_cast<double>(steps);
    sum += f_dec * (1.0 - s) + (1.0 - f_dec);
  }
  p.total_s = p.dense_pass_s * sum;
  p.mean_relative_cost = sum / static_cast<double>(steps);
  return p;
}

std::string Duration(double s) {
  if (s < 120) return absl::StrFormat("%.1f s", s);
  if (s < 7200) return absl::StrFormat("%.1f min", s / 60);
  return absl::StrFormat("%.2f h", s / 3600);
}

// ---- The PyTorch baseline -------------------------------------------------------------------

struct TorchResult {
  bool ok = false;
  double tokens_per_s = 0;
  double peak_bytes = 0;
};

TorchResult RunTorch(const LlamaConfig& c, int64_t b, int64_t t, int64_t sequences,
                     const std::string& device, const std::string& dtype) {
  const std::string cmd = absl::StrFormat(
      "%s %s --layers %d --hidden %d --heads %d --kv_heads %d --head_dim %d --ffn %d --vocab %d "
      "--rope_theta %g --seq %d --batch %d --sequences %d --device %s --dtype %s %s 2>&1",
      absl::GetFlag(FLAGS_python), absl::GetFlag(FLAGS_torch_script), c.num_layers,
      c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim, c.intermediate_size, c.vocab_size,
      c.rope_theta, t, b, sequences, device, dtype, absl::GetFlag(FLAGS_torch_args));
  std::printf("torch:   running %s\n", cmd.c_str());
  std::fflush(stdout);
  TorchResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    std::printf("torch:   cannot start the baseline\n");
    return r;
  }
  char line[1024];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    const std::string s(line);
    if (s.rfind("tokens_per_s=", 0) == 0) {
      (void)absl::SimpleAtod(absl::StripAsciiWhitespace(s.substr(13)), &r.tokens_per_s);
    } else if (s.rfind("peak_mem_bytes=", 0) == 0) {
      (void)absl::SimpleAtod(absl::StripAsciiWhitespace(s.substr(15)), &r.peak_bytes);
    } else {
      std::printf("torch:   %s", s.c_str());
    }
    std::fflush(stdout);
  }
  const int rc = pclose(pipe);
  r.ok = rc == 0 && r.tokens_per_s > 0;
  if (!r.ok) std::printf("torch:   baseline FAILED (exit status %d)\n", rc);
  return r;
}

// ---- The benchmark --------------------------------------------------------------------------

int Run() {
  const std::string device = absl::GetFlag(FLAGS_device);
  if (device != "cuda" && device != "cpu") {
    std::fprintf(stderr, "error: --device must be cuda or cpu\n");
    return 2;
  }
  const int64_t t = absl::GetFlag(FLAGS_seq);
  int64_t b = absl::GetFlag(FLAGS_batch);
  if (b <= 0) b = device == "cuda" ? 8 : 4;
  const int64_t sequences = absl::GetFlag(FLAGS_sequences);
  if (t <= 1 || sequences < b || sequences % b != 0) {
    std::fprintf(stderr, "error: need --seq > 1 and --sequences a positive multiple of --batch "
                         "(%ld sequences, batch %ld)\n", sequences, b);
    return 2;
  }
  const int64_t batches = sequences / b;
  auto config_or = ShapeConfig(absl::GetFlag(FLAGS_shape), t);
  if (!config_or.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(config_or.status().message()).c_str());
    return 2;
  }
  const LlamaConfig c = *config_or;
  const PassFlops flops = CountFlops(c, b, t);
  std::printf("shape:   %s: L=%ld D=%ld H=%ld KV=%ld Dh=%ld F=%ld V=%ld, %.1fM parameters "
              "(%.1fM in decoder linears)\n",
              absl::GetFlag(FLAGS_shape).c_str(), c.num_layers, c.hidden_size, c.num_heads,
              c.num_kv_heads, c.head_dim, c.intermediate_size, c.vocab_size,
              c.TotalParameters() / 1e6, flops.linears / 6.0 / (b * t) / 1e6);
  std::printf("pass:    %ld sequences x %ld tokens in %ld batches of %ld, after 1 warm-up batch; "
              "gradients: every decoder linear weight\n",
              sequences, t, batches, b);

  // The backend. Without a usable one the gisp pass is skipped (exit 77), after running the
  // PyTorch baseline if asked, so a GPU session still gets that number.
  absl::StatusOr<std::unique_ptr<Backend>> created =
      device == "cuda" ? CreateCudaBackend(0) : CreateCpuBackend();
  if (!created.ok()) {
    std::printf("gisp:    SKIPPED: %s backend unavailable: %s\n", device.c_str(),
                created.status().ToString().c_str());
    if (absl::GetFlag(FLAGS_torch)) {
      const TorchResult tr = RunTorch(c, b, t, sequences, device, "bf16");
      if (tr.ok) {
        std::printf("torch:   %.1f tokens/s, %.2f TFLOP/s, peak allocated %.2f GiB\n",
                    tr.tokens_per_s, flops.total() * tr.tokens_per_s / (b * t) / 1e12,
                    GiB(tr.peak_bytes));
      }
    }
    return kExitUnavailable;
  }
  std::unique_ptr<Backend> inner = std::move(created).value();
  std::unique_ptr<ProfilingBackend> profiler;
  Backend* backend = inner.get();
  if (absl::GetFlag(FLAGS_profile)) {
    profiler = NewProfilingBackend(inner.get());
    backend = profiler.get();
  }
  std::printf("backend: %s, %d host threads\n", backend->name().c_str(), omp_get_max_threads());

  DType weight_dtype = DType::kF32;
  const std::string wflag = absl::GetFlag(FLAGS_weights);
  if (wflag == "bf16" || (wflag == "auto" && backend->SupportsStorageDType(DType::kBF16))) {
    weight_dtype = DType::kBF16;
  } else if (wflag != "f32" && wflag != "auto") {
    std::fprintf(stderr, "error: --weights must be bf16, f32 or auto\n");
    return 2;
  }
  if (weight_dtype == DType::kBF16 && !backend->SupportsStorageDType(DType::kBF16)) {
    std::fprintf(stderr, "error: the %s backend does not store bf16 weights; use --weights=f32\n",
                 device.c_str());
    return 2;
  }

  auto mem0 = backend->QueryMemory();
  if (!mem0.ok()) {
    std::fprintf(stderr, "error: QueryMemory: %s\n", mem0.status().ToString().c_str());
    return 1;
  }

  auto tg = Clock::now();
  auto host = RandomBF16Weights(c, absl::GetFlag(FLAGS_seed));
  if (!host.ok()) {
    std::fprintf(stderr, "error: host weights: %s\n", host.status().ToString().c_str());
    return 1;
  }
  const double gen_s = Seconds(tg);
  auto tc = Clock::now();
  LlamaModel::Options options;
  options.weight_dtype = weight_dtype;
  options.keep_activation_bytes = absl::GetFlag(FLAGS_keep_activation_bytes);
  auto model_or = LlamaModel::Create(c, *host, backend, options);
  if (!model_or.ok()) {
    std::fprintf(stderr, "error: LlamaModel::Create: %s\n", model_or.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<LlamaModel> model = std::move(model_or).value();
  const GradRequest request = GradRequest::Layers(c, kParamLinears);
  auto grads_or = model->AllocateGradients(request);
  if (!grads_or.ok()) {
    std::fprintf(stderr, "error: AllocateGradients: %s\n", grads_or.status().ToString().c_str());
    return 1;
  }
  LlamaGradients grads = std::move(grads_or).value();
  if (auto s = backend->Synchronize(); !s.ok()) {
    std::fprintf(stderr, "error: Synchronize: %s\n", s.ToString().c_str());
    return 1;
  }
  const double create_s = Seconds(tc);
  auto mem1 = backend->QueryMemory();
  std::printf("setup:   host bf16 weights generated in %.2f s; weights (%s) uploaded and f32 "
              "gradients allocated in %.2f s, %.2f GiB of device memory\n",
              gen_s, std::string(DTypeName(weight_dtype)).c_str(), create_s,
              mem1.ok() ? GiB(mem0->free_bytes - mem1->free_bytes) : -1.0);

  std::vector<Batch> data;
  for (int64_t i = 0; i <= batches; ++i) {
    data.push_back(testing::RandomBatch(c, b, t, static_cast<uint32_t>(absl::GetFlag(FLAGS_seed) * 1000 + i)));
  }
  int64_t min_free = mem1.ok() ? mem1->free_bytes : mem0->free_bytes;
  auto poll = [&]() {
    auto m = backend->QueryMemory();
    if (m.ok()) min_free = std::min(min_free, m->free_bytes);
  };

  auto tw = Clock::now();
  auto warm = model->ForwardBackward(data[0], request, &grads);
  if (warm.ok()) {
    const absl::Status s = backend->Synchronize();
    if (!s.ok()) warm = s;
  }
  if (!warm.ok()) {
    std::fprintf(stderr, "error: warm-up ForwardBackward: %s\n", warm.status().ToString().c_str());
    return 1;
  }
  poll();
  std::printf("warm-up: %.3f s, loss %.4f (random weights: ln V = %.4f)\n", Seconds(tw),
              warm->loss, std::log(static_cast<double>(c.vocab_size)));
  if (profiler) profiler->Reset();

  auto t0 = Clock::now();
  LossResult last;
  for (int64_t i = 1; i <= batches; ++i) {
    auto r = model->ForwardBackward(data[static_cast<size_t>(i)], request, &grads);
    if (!r.ok()) {
      std::fprintf(stderr, "error: ForwardBackward batch %ld: %s\n", i,
                   r.status().ToString().c_str());
      return 1;
    }
    last = *r;
    poll();
  }
  if (auto s = backend->Synchronize(); !s.ok()) {
    std::fprintf(stderr, "error: Synchronize: %s\n", s.ToString().c_str());
    return 1;
  }
  const double sec = Seconds(t0);
  poll();

  const double tokens = static_cast<double>(sequences) * static_cast<double>(t);
  const double tps = tokens / sec;
  const double tflops = flops.total() * static_cast<double>(batches) / sec / 1e12;
  const double peak_tflops = absl::GetFlag(FLAGS_peak_tflops);
  std::printf("gisp:    %.1f tokens/s, %.3f s/batch, %.3f s for the pass; last batch loss %.4f\n",
              tps, sec / batches, sec, last.loss);
  std::printf("gisp:    %.3f TFLOP/s model FLOPs (%.1f GFLOP per batch: linears %.1f, attention "
              "%.1f, lm_head %.1f), %.1f%% of %.0f TFLOP/s%s\n",
              tflops, flops.total() / 1e9, flops.linears / 1e9, flops.attention / 1e9,
              flops.head / 1e9, 100.0 * tflops / peak_tflops, peak_tflops,
              device == "cuda" ? " (--peak_tflops)" : " (--peak_tflops; meaningless on a CPU)");
  std::printf("gisp:    %s memory: %.2f GiB total, %.2f GiB free before the model, lowest free "
              "seen %.2f GiB -> peak in use %.2f GiB (%.2f GiB by this run)\n",
              device == "cuda" ? "device" : "host (the cpu backend's QueryMemory)",
              GiB(mem0->total_bytes), GiB(mem0->free_bytes), GiB(min_free),
              GiB(mem0->total_bytes - min_free), GiB(mem0->free_bytes - min_free));
  std::printf("         (the lowest free memory QueryMemory reported after model creation and after "
              "each batch: a sample, not a true peak; memory allocated and freed inside a batch "
              "is not seen)\n");

  const int64_t steps = absl::GetFlag(FLAGS_project_steps);
  const double ratio = absl::GetFlag(FLAGS_project_ratio);
  const int64_t windows = absl::GetFlag(FLAGS_project_windows);
  const Projection proj = Project(tps, t, flops, steps, ratio, windows);
  std::printf("project: full GISP run, %ld steps to %.2f decoder sparsity, %ld x %ld tokens per "
              "step: %s (dense pass %s, mean step cost %.3f of dense)\n",
              steps, ratio, windows, t, Duration(proj.total_s).c_str(),
              Duration(proj.dense_pass_s).c_str(), proj.mean_relative_cost);
  std::printf("         t_k = t_dense * (f_dec * (1 - s_{k-1}) + 1 - f_dec), s_k = %.2f*k/%ld, "
              "k = 1..%ld, f_dec = %.3f (decoder share of the model FLOPs), t_dense = %ld*%ld / "
              "tokens_per_s; assumes compaction keeps the FLOP rate; excludes scoring and "
              "surgery\n",
              ratio, steps, steps, flops.decoder() / flops.total(), windows, t);

  if (profiler) {
    std::printf("\ngisp per-verb profile (%ld batches):\n%s\n", batches,
                profiler->Report().c_str());
  }

  if (!absl::GetFlag(FLAGS_torch)) return 0;
  // Free gisp's device memory before the baseline starts on the same GPU.
  grads = LlamaGradients();
  model.reset();
  profiler.reset();
  inner.reset();
  const TorchResult tr =
      RunTorch(c, b, t, sequences, device, weight_dtype == DType::kBF16 ? "bf16" : "f32");
  if (!tr.ok) return 1;
  const double torch_tflops = flops.total() * tr.tokens_per_s / (b * t) / 1e12;
  std::printf("torch:   %.1f tokens/s, %.3f TFLOP/s (%.1f%% of %.0f), peak allocated %.2f GiB "
              "(torch.cuda.max_memory_allocated)\n",
              tr.tokens_per_s, torch_tflops, 100.0 * torch_tflops / peak_tflops, peak_tflops,
              GiB(tr.peak_bytes));
  std::printf("ratio gisp/torch: %.2fx tokens/s\n", tps / tr.tokens_per_s);
  return 0;
}

}  // namespace
}  // namespace gisp

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "one GISP calibration pass on a Llama-7B/8B shape with random bf16 weights, on the GPU");
  absl::ParseCommandLine(argc, argv);
  return gisp::Run();
}
