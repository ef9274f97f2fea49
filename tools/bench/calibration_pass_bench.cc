// Benchmark: one GISP calibration pass (forward + backward, gradients accumulated into the
// decoder linear weights only) on a ~100M-parameter Llama-shaped model, against PyTorch doing
// the same work in the same run, and against the machine's measured oneDNN sgemm rate.
//
//   bazel run //tools/bench:calibration_pass             # gisp + PyTorch, default shape
//   bazel run //tools/bench:calibration_pass -- --torch=false --profile
//
// Prints tokens/s for both, their ratio, the achieved GFLOP/s over the whole pass (model FLOPs:
// forward and backward of what is requested, not counting recomputation), the sgemm rate, and
// with --profile a per-verb table of where gisp's time goes.
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gisp/backend/backend.h"
#include "gisp/backend/cpu/gemm.h"
#include "gisp/backend/profiling_backend.h"
#include "gisp/model/llama_model.h"
#include "gisp/testing/random_model.h"

ABSL_FLAG(int64_t, layers, 12, "decoder layers (L)");
ABSL_FLAG(int64_t, hidden, 768, "hidden size (D)");
ABSL_FLAG(int64_t, heads, 12, "query heads (H)");
ABSL_FLAG(int64_t, kv_heads, 4, "key/value heads (KV)");
ABSL_FLAG(int64_t, ffn, 2048, "MLP intermediate size (F)");
ABSL_FLAG(int64_t, vocab, 32000, "vocabulary (V)");
ABSL_FLAG(int64_t, seq, 256, "tokens per sequence (T)");
ABSL_FLAG(int64_t, batch, 4, "sequences per batch (B)");
ABSL_FLAG(int64_t, batches, 4, "timed batches (after one warm-up batch)");
ABSL_FLAG(bool, checkpoint, false,
          "recompute every layer in backward (pure per-layer checkpointing) instead of keeping "
          "activations that fit in 2 GiB");
ABSL_FLAG(bool, torch, true, "also run PyTorch on the same shapes");
ABSL_FLAG(std::string, python, "",
          "interpreter with torch (and transformers for the hf baseline); default: the project "
          "venv .consumers/venv/bin/python (tools/setup.sh --tests) when present, else python3");
ABSL_FLAG(std::string, torch_models, "hf,reference",
          "PyTorch baselines to run, comma-separated: hf (transformers' LlamaForCausalLM), "
          "reference (the project's lean PyTorch Llama)");
ABSL_FLAG(bool, profile, false, "print gisp's per-verb time profile");
ABSL_FLAG(bool, stream_layers, false,
          "layer streaming: decoder layers and their gradients in host memory, one layer "
          "uploaded at a time (docs/memory.md); prints the backend's peak allocation either way");

namespace gisp {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The machine's sgemm rate: best of three trials of about 0.3 s each, at 1024^3 and at the
// shapes that dominate the pass (MLP forward, input gradient, weight gradient).
double MeasureSgemmGflops(int64_t n_tokens, int64_t d, int64_t f) {
  struct Shape {
    int64_t m, n, k;
    bool ta, tb;
  };
  const std::vector<Shape> shapes = {{1024, 1024, 1024, false, false},
                                     {n_tokens, f, d, false, true},
                                     {n_tokens, d, f, false, false},
                                     {f, d, n_tokens, true, false}};
  OneDnnGemm gemm;
  double best = 0;
  for (const Shape& s : shapes) {
    std::vector<float> a(static_cast<size_t>(s.m * s.k), 0.5f);
    std::vector<float> b(static_cast<size_t>(s.k * s.n), 0.25f);
    std::vector<float> c(static_cast<size_t>(s.m * s.n));
    for (int trial = 0; trial < 3; ++trial) {
      int reps = 0;
      auto t0 = Clock::now();
      do {
        (void)gemm.Run(c.data(), a.data(), s.ta, b.data(), s.tb, 1, s.m, s.n, s.k, 1.0f, 0.0f);
        ++reps;
      } while (Seconds(t0) < 0.3);
      best = std::max(best, 2.0 * s.m * s.n * s.k * reps / Seconds(t0) / 1e9);
    }
  }
  return best;
}

// Model FLOPs of one pass with gradients for every decoder linear weight.
double PassFlops(const LlamaConfig& c, int64_t b, int64_t t) {
  const double n = static_cast<double>(b * t);
  const double d = c.hidden_size, dh = c.head_dim, f = c.intermediate_size;
  const double linear = d * (c.num_heads * dh) * 2 + d * (c.num_kv_heads * dh) * 2 + 3 * d * f;
  const double attn = 4.0 * b * c.num_heads * static_cast<double>(t) * t * dh;  // QK^T + PV
  const double head = 2.0 * n * c.vocab_size * d;
  // forward: 2 N P; backward: 2 N P (input grads) + 2 N P (weight grads); attention x2 back.
  return c.num_layers * (3 * 2.0 * n * linear + 3 * attn) + 2 * head;
}

long PeakRssMb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

// The interpreter for the PyTorch half: --python, else the project venv (bazel run sets
// BUILD_WORKSPACE_DIRECTORY to the checkout), else python3 from PATH.
std::string TorchPython() {
  if (!absl::GetFlag(FLAGS_python).empty()) return absl::GetFlag(FLAGS_python);
  if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    const std::string venv = absl::StrCat(ws, "/.consumers/venv/bin/python");
    if (access(venv.c_str(), X_OK) == 0) return venv;
  }
  return "python3";
}

// Runs one PyTorch baseline, echoing its lines; returns its tokens/s, or 0 after saying why.
double RunTorch(const std::string& cmd) {
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    std::fprintf(stderr, "cannot run %s\n", cmd.c_str());
    return 0;
  }
  double tps = 0;
  char line[512];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    std::string s(line);
    if (s.rfind("tokens_per_s=", 0) == 0) {
      (void)absl::SimpleAtod(absl::StripAsciiWhitespace(s.substr(13)), &tps);
    } else {
      std::printf("torch:   %s", s.c_str());
    }
  }
  const int rc = pclose(pipe);
  if (rc != 0 || tps <= 0) {
    std::fprintf(stderr,
                 "PyTorch run failed (exit %d): %s\n(needs torch, and transformers for --model hf; "
                 "tools/setup.sh --tests installs both into .consumers/venv, or pass --torch=false)\n",
                 rc, cmd.c_str());
    return 0;
  }
  return tps;
}

int Run() {
  const int64_t b = absl::GetFlag(FLAGS_batch), t = absl::GetFlag(FLAGS_seq);
  LlamaConfig c = testing::SmallConfig(
      absl::GetFlag(FLAGS_vocab), absl::GetFlag(FLAGS_hidden), absl::GetFlag(FLAGS_layers),
      absl::GetFlag(FLAGS_heads), absl::GetFlag(FLAGS_kv_heads),
      absl::GetFlag(FLAGS_hidden) / absl::GetFlag(FLAGS_heads), absl::GetFlag(FLAGS_ffn));
  c.max_position_embeddings = std::max<int64_t>(t, 2048);
  const int threads = omp_get_max_threads();
  std::printf("shape: L=%ld D=%ld H=%ld KV=%ld F=%ld V=%ld, B=%ld T=%ld, %.1fM parameters\n",
              c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads, c.intermediate_size,
              c.vocab_size, b, t, c.TotalParameters() / 1e6);
  std::printf("threads: %d\n", threads);
  const double sgemm = MeasureSgemmGflops(b * t, c.hidden_size, c.intermediate_size);
  std::printf("oneDNN %s sgemm: %.1f GFLOP/s (best of 1024^3 and the pass's GEMM shapes)\n",
              OneDnnVersion().c_str(), sgemm);

  auto cpu_or = CreateCpuBackend();
  if (!cpu_or.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(cpu_or.status().message()).c_str());
    return 1;
  }
  auto cpu = std::move(cpu_or).value();
  std::unique_ptr<ProfilingBackend> profiler;
  Backend* backend = cpu.get();
  if (absl::GetFlag(FLAGS_profile)) {
    profiler = NewProfilingBackend(cpu.get());
    backend = profiler.get();
  }
  LlamaModel::Options options;
  if (absl::GetFlag(FLAGS_checkpoint)) options.keep_activation_bytes = 0;
  options.stream_layers = absl::GetFlag(FLAGS_stream_layers);
  auto model_or = LlamaModel::Create(c, testing::RandomWeights(c, 1), backend, options);
  if (!model_or.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(model_or.status().message()).c_str());
    return 1;
  }
  auto model = std::move(model_or).value();
  const GradRequest request = GradRequest::Layers(c, kParamLinears);
  auto grads = model->AllocateGradients(request).value();
  const int64_t batches = absl::GetFlag(FLAGS_batches);
  std::vector<Batch> data;
  for (int64_t i = 0; i <= batches; ++i) data.push_back(testing::RandomBatch(c, b, t, 100 + i));
  auto warm = model->ForwardBackward(data[0], request, &grads);
  if (!warm.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(warm.status().message()).c_str());
    return 1;
  }
  if (profiler) profiler->Reset();
  auto t0 = Clock::now();
  for (int64_t i = 1; i <= batches; ++i) {
    auto r = model->ForwardBackward(data[i], request, &grads);
    if (!r.ok()) return 1;
  }
  const double sec = Seconds(t0);
  const double tokens = static_cast<double>(batches * b * t);
  const double gisp_tps = tokens / sec;
  const double gflops = PassFlops(c, b, t) * batches / sec / 1e9;
  std::printf(
      "gisp:    %.1f tokens/s, %.1f GFLOP/s (%.0f%% of sgemm), %.3f s/batch, peak RSS %ld MB\n",
      gisp_tps, gflops, 100.0 * gflops / sgemm, sec / batches, PeakRssMb());
  // Bytes allocated through the Backend interface ("device memory", the same accounting on every
  // device): weights, gradient buffers (host RAM when streaming), activations.
  std::printf("backend peak allocation: %.1f MB (%s)\n",
              static_cast<double>(cpu->allocation_stats().peak_bytes) / 1e6,
              options.stream_layers ? "layers streamed" : "layers resident");
  if (profiler)
    std::printf("\ngisp per-verb profile (%ld batches):\n%s\n", batches,
                profiler->Report().c_str());

  if (!absl::GetFlag(FLAGS_torch)) return 0;
  const std::string python = TorchPython();
  for (absl::string_view model : absl::StrSplit(absl::GetFlag(FLAGS_torch_models), ',')) {
    const std::string cmd = absl::StrFormat(
        "%s tools/bench/torch_calibration_pass.py --model %s --layers %d --hidden %d --heads %d "
        "--kv_heads %d --ffn %d --vocab %d --seq %d --batch %d --batches %d --threads %d",
        python, model, c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads,
        c.intermediate_size, c.vocab_size, t, b, batches, threads);
    const double torch_tps = RunTorch(cmd);
    if (torch_tps <= 0) return 1;
    const double torch_gflops = PassFlops(c, b, t) * torch_tps / (b * t) / 1e9;
    std::printf("torch:   %.1f tokens/s, %.1f GFLOP/s (%.0f%% of sgemm)\n", torch_tps,
                torch_gflops, 100.0 * torch_gflops / sgemm);
    std::printf("ratio gisp/torch (%s): %.2fx\n", std::string(model).c_str(),
                gisp_tps / torch_tps);
  }
  return 0;
}

}  // namespace
}  // namespace gisp

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return gisp::Run();
}
