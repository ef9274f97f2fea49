// `prune`: the gisp command line. Prunes an HF Llama-family model with GISP, then evaluates and
// exports every requested target sparsity from the one run. Uses the C API (c_api/gisp.h), linked
// statically with gisp.proto's messages: report.json is a RunReport (docs/formats.md).
//
//   bazel run //tools:prune                       # the embedded tiny model, about two minutes
//   bazel run //tools:prune -- --model DIR --calib c4.jsonl --ratio 0.7 --steps 112
//       --targets 0.2,0.3,0.4,0.5 --eval wiki.test.txt --out runs/llama2
//
// Killing the run and starting the same command again continues from the last completed step
// (the record in --out is the checkpoint); --fresh starts over. Exit status: 0 success,
// 1 error (message on stderr), 2 bad command line, 130 interrupted (resumable).
//
// Under mpirun or srun (docs/scaling.md) the ranks share the calibration batches of every step;
// rank 0 alone evaluates, prints progress and writes --out, and a failure on any rank stops every
// rank with an error naming it.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "c_api/gisp.h"
#include "gisp/proto/gisp.pb.h"
#include "gisp/proto/json.h"
#include "tools/cli/exports.h"
#include "tools/cli/flags.h"
#include "tools/cli/handles.h"
#include "tools/cli/mpi_launch.h"
#include "tools/cli/openmp_env.h"
#include "tools/cli/paths.h"
#include "tools/cli/progress_bar.h"
#include "tools/cli/report.h"

ABSL_FLAG(std::string, model, "", "HF model directory (default: the embedded tiny model)");
ABSL_FLAG(std::string, calib, "",
          "calibration data: a text file or JSONL {\"text\"} for lm, JSONL "
          "{\"question\",\"answer\"} for answer-only, JSONL {\"context\",\"choices\",\"label\"} "
          "for margin");
ABSL_FLAG(std::string, method, "gisp",
          "gisp (global iterative) | oneshot (GISP, one step) | wanda-sp | flap | llm-pruner | "
          "magnitude | random (docs/baselines.md); every method but gisp scores the dense model "
          "once and records one step per --targets sparsity (flap's bias compensation goes into "
          "the evaluated and exported subnetworks' o_proj/down_proj biases)");
ABSL_FLAG(uint64_t, method_seed, 0, "--method random: the seed of the unit scores");
ABSL_FLAG(std::string, objective, "lm", "lm | answer-only | margin");
ABSL_FLAG(double, ratio, 0.7, "rho: fraction of units pruned after the last step");
ABSL_FLAG(int32_t, steps, 112, "number of pruning steps (1 = one-shot)");
ABSL_FLAG(std::string, targets, "0.2,0.3,0.4,0.5",
          "decoder sparsities to evaluate and export, comma-separated");
ABSL_FLAG(std::string, eval, "", "evaluation text for perplexity (empty: no evaluation)");
ABSL_FLAG(int64_t, eval_chunk, 128, "perplexity chunk length in tokens (the paper uses 128)");
ABSL_FLAG(int64_t, eval_max_chunks, 0, "evaluate at most this many chunks (0 = all)");
ABSL_FLAG(std::string, out, "gisp-out", "output directory: record, report, plot, models");
ABSL_FLAG(int64_t, window, 256, "lm calibration: tokens per window");
ABSL_FLAG(int64_t, windows, 2000, "lm calibration: number of windows");
ABSL_FLAG(uint64_t, seed, 0, "lm calibration: sampling seed");
ABSL_FLAG(int64_t, calib_limit, 0, "JSONL calibration: use the first N items (0 = all)");
ABSL_FLAG(int32_t, batch_size, 2, "sequences per gradient batch");
ABSL_FLAG(std::string, normalization, "reference", "reference | paper | none");
ABSL_FLAG(std::string, gqa_unit, "query-head", "query-head | kv-group");
ABSL_FLAG(int32_t, round_channels, 0, "round kept MLP channels per layer to a multiple (0 = off)");
ABSL_FLAG(double, protect_first, 0.1, "protect layers below floor(f * L)");
ABSL_FLAG(bool, protect_last, true, "protect the last layer");
ABSL_FLAG(bool, compact, true, "shrink the working model after each step (same results)");
ABSL_FLAG(std::string, device, "cpu",
          "cpu | cuda | cuda:N (under MPI, plain cuda gives each rank of a machine its own GPU: "
          "the rank's index among that machine's ranks)");
ABSL_FLAG(bool, stream_layers, false,
          "layer streaming: keep the decoder layers and their gradients in host memory and "
          "upload one layer at a time to the device, for models whose weights do not fit it "
          "(same record; docs/scaling.md)");
ABSL_FLAG(std::string, dtype, "auto",
          "exported weights: auto (the checkpoint's) | f32 | bf16 | f16");
ABSL_FLAG(bool, export_models, true, "write the --export formats for every target");
ABSL_FLAG(std::string, export, "sliced,llama",
          "formats written per target into --out/models/sparsity-X/<format>/, comma-separated: "
          "sliced (gisp's exact format), llama (uniform, every runtime), gguf (llama.cpp), "
          "decilm (vLLM, TensorRT-LLM)");
ABSL_FLAG(bool, fresh, false, "ignore a record already in --out and start over");
ABSL_FLAG(int32_t, threads, 0,
          "threads gisp may use (0: OpenMP's default, one per core or OMP_NUM_THREADS); results "
          "are deterministic for a given count");
ABSL_FLAG(std::string, mpi, "auto",
          "auto: share the work with the other ranks when started by mpirun or srun; off: run "
          "alone even then; on: always initialize MPI");
ABSL_FLAG(bool, verbose, false,
          "also print gisp's info log: backend, CPU and a summary of every step");

namespace gisp_cli {
namespace {

using Clock = std::chrono::steady_clock;

// Raised by SIGINT/SIGTERM: the pruner stops within one calibration batch and keeps its record.
gisp_cancel_token* g_cancel = nullptr;
void OnSignal(int) { gisp_cancel_token_cancel(g_cancel); }  // one atomic store: signal-safe

Status Fail(const std::string& message) { return Status(GISP_INVALID_ARGUMENT, message); }

// The embedded default: the tiny model the project trains (testdata/tiny) with settings that
// finish in about two minutes on two cores. Explicit flags still win.
struct TinyDefaults {
  const char* model = "testdata/tiny/model";
  const char* calib = "testdata/tiny/calib.txt";
  const char* eval = "testdata/tiny/eval.txt";
  double ratio = 0.6;
  int32_t steps = 24;
  int64_t window = 128;
  int64_t windows = 64;
  int32_t batch_size = 8;
};

template <typename T>
T FlagOr(const absl::Flag<T>& flag, T tiny_value, bool tiny) {
  // In the embedded run, a flag the user did not give takes the tiny model's setting.
  if (tiny && !FlagGiven(std::string(absl::GetFlagReflectionHandle(flag).Name()))) {
    return tiny_value;
  }
  return absl::GetFlag(flag);
}

bool OnProgress(const gisp_progress* p, void* user) {
  static_cast<ProgressBar*>(user)->Update(
      gisp_progress_step(p), gisp_progress_steps(p), gisp_progress_batch(p),
      gisp_progress_batches(p), gisp_progress_elapsed_seconds(p), gisp_progress_eta_seconds(p));
  return true;  // cancellation goes through g_cancel
}

// This process's rank and the job's size (0 and 1 without MPI), for messages.
int g_rank = 0;
int g_ranks = 1;

// "[rank R] " when several ranks print to one terminal, else "".
std::string RankPrefix() {
  return g_ranks > 1 ? absl::StrCat("[rank ", g_rank, "] ") : std::string();
}

void OnLog(gisp_log_level level, const char* message, void*) {
  static const char* const kNames[] = {"debug", "info", "warning", "error"};
  std::fprintf(stderr, "%s[%s] %s\n", RankPrefix().c_str(), kNames[level], message);
}

int64_t ModelInt(gisp_model* m, gisp_model_field f) {
  int64_t v = 0;
  Status s = gisp_model_get_int(m, f, &v);
  return s.ok() ? v : 0;
}

// Perplexity of `model` on the evaluation text, when there is one: `set` receives the perplexity
// and the token count (a report leaves perplexity out when nothing was evaluated).
template <typename SetFn>
Status Evaluate(gisp_model* model, const std::string& eval, SetFn set) {
  if (eval.empty()) return Status();
  double ppl = 0;
  int64_t tokens = 0;
  CLI_RETURN_IF_ERROR(gisp_eval_perplexity(model, eval.c_str(), absl::GetFlag(FLAGS_eval_chunk),
                                           absl::GetFlag(FLAGS_eval_max_chunks), &ppl, &tokens));
  set(ppl, tokens);
  return Status();
}

// Now, as ISO 8601 UTC.
std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

// Everything the command line asks for, validated before any expensive work or any write.
// Paths for reading and writing are absolute (`bazel run` starts the tool in its runfiles); the
// report keeps them as the user gave them, for what is printed and reported.
struct Settings {
  bool tiny = false;
  std::string model_path, calib_path, eval_path;
  UserPath out;
  gisp_objective objective = GISP_OBJECTIVE_LM;
  gisp_method method = GISP_METHOD_GISP;
  double ratio = 0;
  int32_t steps = 0;
  int64_t window = 0, windows = 0;
  int32_t batch_size = 0;
  std::vector<double> targets;
  gisp_device device = GISP_DEVICE_CPU;
  int device_index = 0;
  gisp_dtype dtype = GISP_DTYPE_AUTO;
  std::vector<ExportChoice> formats;
  gisp_normalization normalization = GISP_NORMALIZATION_REFERENCE;
  gisp_gqa_unit gqa_unit = GISP_GQA_UNIT_QUERY_HEAD;
};

// A name flag through the library's own parser; the message names the flag.
template <typename E>
Status ParseNameFlag(const char* flag, const std::string& value,
                     gisp_status* (*parse)(const char*, E*), E* out) {
  Status status = parse(value.c_str(), out);
  if (status.ok()) return status;
  return Fail(absl::StrCat("--", flag, ": ", status.message()));
}

Status ParseSettings(Settings* s, gisp::proto::RunReport* report) {
  const TinyDefaults td;
  s->tiny = absl::GetFlag(FLAGS_model).empty();
  const bool tiny = s->tiny;
  const std::string calib_flag = absl::GetFlag(FLAGS_calib), eval_flag = absl::GetFlag(FLAGS_eval);
  s->model_path = tiny ? RunfilesPath(td.model) : ResolveUserPath(absl::GetFlag(FLAGS_model));
  s->calib_path =
      !calib_flag.empty() ? ResolveUserPath(calib_flag) : (tiny ? RunfilesPath(td.calib) : "");
  s->eval_path =
      !eval_flag.empty() ? ResolveUserPath(eval_flag) : (tiny ? RunfilesPath(td.eval) : "");
  s->out = UserPath::Resolve(absl::GetFlag(FLAGS_out));
  report->set_gisp_version(gisp_version_string());
  report->set_model(tiny ? absl::StrCat("embedded tiny model (", td.model, ")")
                         : absl::GetFlag(FLAGS_model));
  report->set_calibration(!calib_flag.empty() ? calib_flag : (tiny ? td.calib : ""));
  report->set_evaluation(!eval_flag.empty() ? eval_flag : (tiny ? td.eval : ""));
  report->set_device(absl::GetFlag(FLAGS_device));
  s->ratio = FlagOr(FLAGS_ratio, td.ratio, tiny);
  s->steps = FlagOr(FLAGS_steps, td.steps, tiny);
  s->window = FlagOr(FLAGS_window, td.window, tiny);
  s->windows = FlagOr(FLAGS_windows, td.windows, tiny);
  s->batch_size = FlagOr(FLAGS_batch_size, td.batch_size, tiny);

  if (s->calib_path.empty()) return Fail("--calib is required with --model");
  if (!PathExists(s->model_path)) {
    return Status(GISP_NOT_FOUND, absl::StrCat(report->model(), " does not exist"));
  }
  if (!PathExists(s->calib_path)) {
    return Status(GISP_NOT_FOUND, absl::StrCat(report->calibration(), " does not exist"));
  }
  if (!s->eval_path.empty() && !PathExists(s->eval_path)) {
    return Status(GISP_NOT_FOUND,
                  absl::StrCat("--eval: ", report->evaluation(), " does not exist"));
  }
  CLI_RETURN_IF_ERROR(ParseNameFlag("objective", absl::GetFlag(FLAGS_objective),
                                    gisp_objective_from_name, &s->objective));
  CLI_RETURN_IF_ERROR(
      ParseNameFlag("method", absl::GetFlag(FLAGS_method), gisp_method_from_name, &s->method));
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_targets), ',', absl::SkipWhitespace())) {
    double v = 0;
    if (!absl::SimpleAtod(part, &v) || !(v > 0 && v < 1)) {
      return Fail(absl::StrCat("--targets: \"", part, "\" is not a sparsity in (0, 1)"));
    }
    s->targets.push_back(v);
  }
  const std::string& device = report->device();
  if (device.rfind("cuda", 0) == 0) {
    s->device = GISP_DEVICE_CUDA;
    if (device.size() > 5 && !absl::SimpleAtoi(device.substr(5), &s->device_index)) {
      return Fail(absl::StrCat("--device: bad CUDA index in \"", device, "\""));
    }
  } else if (device != "cpu") {
    return Fail(absl::StrCat("--device must be cpu, cuda or cuda:N, got \"", device, "\""));
  }
  if (std::string e = ParseDtype(absl::GetFlag(FLAGS_dtype), &s->dtype); !e.empty()) {
    return Fail(e);
  }
  if (absl::GetFlag(FLAGS_export_models)) {
    if (std::string e = ParseExportList(absl::GetFlag(FLAGS_export), &s->formats); !e.empty()) {
      return Fail(e);
    }
  }
  CLI_RETURN_IF_ERROR(ParseNameFlag("normalization", absl::GetFlag(FLAGS_normalization),
                                    gisp_normalization_from_name, &s->normalization));
  return ParseNameFlag("gqa_unit", absl::GetFlag(FLAGS_gqa_unit), gisp_gqa_unit_from_name,
                       &s->gqa_unit);
}

Status MakeConfig(const Settings& s, PruneConfig* out) {
  gisp_prune_config* c = nullptr;
  CLI_RETURN_IF_ERROR(gisp_prune_config_create(&c));
  out->reset(c);
  CLI_RETURN_IF_ERROR(gisp_prune_config_set_objective(c, s.objective));
  CLI_RETURN_IF_ERROR(gisp_prune_config_set_ratio(c, s.ratio));
  CLI_RETURN_IF_ERROR(gisp_prune_config_set_steps(c, s.steps));
  CLI_RETURN_IF_ERROR(gisp_prune_config_set_batch_size(c, s.batch_size));
  CLI_RETURN_IF_ERROR(gisp_prune_config_set_normalization(c, s.normalization));
  CLI_RETURN_IF_ERROR(gisp_prune_config_set_gqa_unit(c, s.gqa_unit));
  if (s.method != GISP_METHOD_GISP) {
    // The score-once methods record one step per target: each target is then materialized at
    // the set whose measured sparsity is nearest it (docs/baselines.md).
    CLI_RETURN_IF_ERROR(gisp_prune_config_set_method(c, s.method));
    CLI_RETURN_IF_ERROR(
        gisp_prune_config_set_target_sparsities(c, s.targets.data(), s.targets.size()));
    CLI_RETURN_IF_ERROR(gisp_prune_config_set_seed(c, absl::GetFlag(FLAGS_method_seed)));
  }
  CLI_RETURN_IF_ERROR(
      gisp_prune_config_set_round_channels_to(c, absl::GetFlag(FLAGS_round_channels)));
  CLI_RETURN_IF_ERROR(
      gisp_prune_config_set_protect_first_fraction(c, absl::GetFlag(FLAGS_protect_first)));
  CLI_RETURN_IF_ERROR(gisp_prune_config_set_protect_last(c, absl::GetFlag(FLAGS_protect_last)));
  return gisp_prune_config_set_compact(c, absl::GetFlag(FLAGS_compact));
}

// Threads for this process: --threads, else (several ranks on this machine, no OMP_NUM_THREADS)
// an equal share of the cores, else 0 (OpenMP's default).
int32_t ThreadsFor(const MpiRanks& ranks) {
  const int32_t threads = absl::GetFlag(FLAGS_threads);
  if (threads != 0 || ranks.local_size() == 1 || std::getenv("OMP_NUM_THREADS") != nullptr) {
    return threads;
  }
  return std::max(1, gisp_context_num_threads(nullptr) / ranks.local_size());
}

// Loads the model under a context carrying the threads, the run's cancel token and the ranks.
Status LoadModel(const Settings& s, const MpiRanks& ranks, gisp::proto::RunReport* report,
                 Model* model) {
  if (ranks.root()) {
    std::fprintf(stderr, "gisp %s: loading %s%s\n", gisp_version_string(), report->model().c_str(),
                 ranks.size() > 1 ? absl::StrFormat(" on %d ranks", ranks.size()).c_str() : "");
  }
  gisp_context* raw_context = nullptr;
  CLI_RETURN_IF_ERROR(gisp_context_create(&raw_context));
  Context context(raw_context);
  const int32_t threads = ThreadsFor(ranks);
  if (threads != 0) CLI_RETURN_IF_ERROR(gisp_context_set_num_threads(context.get(), threads));
  report->set_threads(gisp_context_num_threads(context.get()));
  CLI_RETURN_IF_ERROR(gisp_context_set_cancel_token(context.get(), g_cancel));
  CLI_RETURN_IF_ERROR(gisp_context_set_communicator(context.get(), ranks.comm()));
  gisp_load_options* raw_options = nullptr;
  CLI_RETURN_IF_ERROR(gisp_load_options_create(&raw_options));
  LoadOptions options(raw_options);
  // Ranks sharing a machine take a GPU each unless --device names one.
  const int device_index = s.device == GISP_DEVICE_CUDA && report->device() == "cuda"
                               ? ranks.local_rank()
                               : s.device_index;
  CLI_RETURN_IF_ERROR(gisp_load_options_set_device(options.get(), s.device, device_index));
  CLI_RETURN_IF_ERROR(gisp_load_options_set_context(options.get(), context.get()));
  CLI_RETURN_IF_ERROR(
      gisp_load_options_set_stream_layers(options.get(), absl::GetFlag(FLAGS_stream_layers)));
  gisp_model* raw = nullptr;
  CLI_RETURN_IF_ERROR(gisp_model_load_with_options(s.model_path.c_str(), options.get(), &raw));
  model->reset(raw);
  gisp_model* m = raw;
  report->set_dense_parameters(ModelInt(m, GISP_MODEL_TOTAL_PARAMETERS));
  if (!ranks.root()) return Status();
  std::fprintf(stderr,
               "model: %lld layers, hidden %lld, heads %lld/%lld, ffn %lld, vocab %lld, %.2fM "
               "parameters\n",
               static_cast<long long>(ModelInt(m, GISP_MODEL_NUM_LAYERS)),
               static_cast<long long>(ModelInt(m, GISP_MODEL_HIDDEN_SIZE)),
               static_cast<long long>(ModelInt(m, GISP_MODEL_NUM_HEADS)),
               static_cast<long long>(ModelInt(m, GISP_MODEL_NUM_KV_HEADS)),
               static_cast<long long>(ModelInt(m, GISP_MODEL_INTERMEDIATE_SIZE)),
               static_cast<long long>(ModelInt(m, GISP_MODEL_VOCAB_SIZE)),
               report->dense_parameters() / 1e6);
  return Status();
}

Status MakeCalibration(const Settings& s, const gisp::proto::RunReport& report, bool root,
                       gisp_model* model, Calibration* out) {
  gisp_calibration* raw = nullptr;
  const int64_t limit = absl::GetFlag(FLAGS_calib_limit);
  const char* path = s.calib_path.c_str();
  if (s.objective == GISP_OBJECTIVE_LM) {
    CLI_RETURN_IF_ERROR(gisp_calibration_text_windows(model, path, s.window, s.windows,
                                                      absl::GetFlag(FLAGS_seed), &raw));
  } else if (s.objective == GISP_OBJECTIVE_ANSWER_ONLY) {
    CLI_RETURN_IF_ERROR(gisp_calibration_qa_jsonl(model, path, limit, &raw));
  } else {
    CLI_RETURN_IF_ERROR(gisp_calibration_multiple_choice_jsonl(model, path, limit, &raw));
  }
  out->reset(raw);
  if (root) {
    std::fprintf(stderr, "calibration: %zu sequences from %s\n",
                 gisp_calibration_num_sequences(raw), report.calibration().c_str());
  }
  return Status();
}

// The record to resume: --out's, unless --fresh or there is none (then `*resume` stays null).
// Every rank reads it, so --out must be on a file system the ranks share.
Status LoadResume(const Settings& s, bool root, Record* resume) {
  const UserPath record_path = s.out.Child("record.pb");
  if (absl::GetFlag(FLAGS_fresh) || !PathExists(record_path.path)) return Status();
  gisp_record* raw = nullptr;
  Status status = gisp_record_load(record_path.path.c_str(), &raw);
  if (!status.ok()) {
    if (absl::StrContains(status.message(), "--fresh")) return status;  // says so already
    return Status(status.code(), absl::StrCat(status.message(), " (use --fresh to start over)"));
  }
  resume->reset(raw);
  if (root) {
    std::fprintf(stderr, "resuming %s after step %d\n", record_path.given.c_str(),
                 gisp_record_num_steps(resume->get()));
  }
  return Status();
}

// The pruner, checkpointing into --out (rank 0 writes).
Status MakePruner(const Settings& s, gisp_model* model, const gisp_calibration* data,
                  const gisp_prune_config* config, const gisp_record* resume, Pruner* out) {
  const UserPath record_path = s.out.Child("record.pb");
  gisp_pruner* raw = nullptr;
  Status status = gisp_pruner_create(model, data, config, resume, &raw);
  if (!status.ok() && resume != nullptr) {
    return Status(status.code(), absl::StrCat(status.message(), "; ", record_path.given,
                                              " is from a different run: use --fresh or another "
                                              "--out"));
  }
  CLI_RETURN_IF_ERROR(std::move(status));
  out->reset(raw);
  return gisp_pruner_set_checkpoint_path(raw, record_path.path.c_str());
}

// The sparsity and calibration loss of the pruner's last completed step.
Status LastStep(gisp_pruner* pruner, double* sparsity, double* loss) {
  gisp_record* raw = nullptr;
  CLI_RETURN_IF_ERROR(gisp_pruner_record(pruner, &raw));
  Record record(raw);
  const int32_t n = gisp_record_num_steps(raw);
  std::vector<double> sparsities(static_cast<size_t>(n)), losses(static_cast<size_t>(n));
  CLI_RETURN_IF_ERROR(gisp_record_step_sparsity(raw, sparsities.data(), sparsities.size()));
  CLI_RETURN_IF_ERROR(gisp_record_step_loss(raw, losses.data(), losses.size()));
  *sparsity = n > 0 ? sparsities.back() : 0;
  *loss = n > 0 ? losses.back() : 0;
  return Status();
}

// Runs the remaining steps one at a time, printing each completed step with its own numbers,
// then the final calibration loss. *interrupted when SIGINT/SIGTERM cancelled it (the record in
// --out keeps every completed step).
Status RunSteps(gisp_pruner* pruner, const MpiRanks& ranks, bool* interrupted) {
  const bool root = ranks.root();
  ProgressBar bar(stderr);
  if (root) gisp_pruner_set_progress_callback(pruner, &OnProgress, &bar);
  const auto start = Clock::now();
  const int32_t first = gisp_pruner_next_step(pruner), steps = gisp_pruner_total_steps(pruner);
  Status status;
  while (!gisp_pruner_done(pruner) && status.ok()) {
    status = gisp_pruner_step(pruner);
    if (!status.ok()) break;
    const int32_t done = gisp_pruner_next_step(pruner);
    double sparsity = 0, loss = 0;
    CLI_RETURN_IF_ERROR(LastStep(pruner, &sparsity, &loss));
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double eta = elapsed / (done - first) * (steps - done);
    if (root) bar.StepDone(done - 1, steps, sparsity, loss, elapsed, eta);
  }
  if (status.ok()) status = gisp_pruner_run(pruner);  // the final calibration loss
  if (root) bar.Finish();
  if (status.code() == GISP_CANCELLED) {
    if (root) {
      // Under MPI, say which rank was interrupted: the signal may have reached that one alone.
      std::fprintf(stderr, "interrupted after step %d%s; run the same command again to resume\n",
                   gisp_pruner_next_step(pruner),
                   ranks.size() > 1 ? absl::StrCat(" (", status.message(), ")").c_str() : "");
    }
    *interrupted = true;
    return Status();
  }
  return status;
}

// The record and the timings of the steps this invocation computed, as gisp.proto's messages:
// the record from its binary form, the timings from gisp_pruner_timings_json (an array of
// StepTiming in protobuf's JSON mapping, read back by protobuf as PrunerTimings' one field).
Status CollectRun(gisp_pruner* pruner, const gisp_record* record, gisp::proto::RunReport* report) {
  uint8_t* bytes = nullptr;
  size_t size = 0;
  CLI_RETURN_IF_ERROR(gisp_record_to_bytes(record, &bytes, &size));
  const bool parsed = report->mutable_record()->ParseFromArray(bytes, static_cast<int>(size));
  gisp_buffer_free(bytes);
  if (!parsed) return Status(GISP_INTERNAL, "the pruner's record does not parse");
  OwnedString timings;
  CLI_RETURN_IF_ERROR(gisp_pruner_timings_json(pruner, &timings.p));
  gisp::proto::PrunerTimings parsed_timings;
  const absl::Status status =
      gisp::ProtoFromJson(absl::StrCat("{\"timings\": ", timings.str(), "}"),
                          "gisp_pruner_timings_json", &parsed_timings);
  if (!status.ok()) return Status(GISP_INTERNAL, std::string(status.message()));
  report->mutable_timings()->Swap(parsed_timings.mutable_timings());
  return Status();
}

// Every target: the nearest step's subnetwork, materialized, evaluated and exported.
Status EvaluateTargets(const Settings& s, gisp_model* model, gisp_record* record,
                       gisp::proto::RunReport* report) {
  for (double t : s.targets) {
    gisp::proto::TargetResult* row = report->add_targets();
    row->set_requested_sparsity(t);
    int32_t step = -1;
    Status status = gisp_record_nearest_step(record, t, &step);
    if (!status.ok()) {
      return Status(status.code(), absl::StrCat("--targets ", t, ": ", status.message()));
    }
    row->set_step(step);
    row->set_sparsity(report->record().steps(step).sparsity());
    Model sub;
    {
      gisp_model* raw = nullptr;
      CLI_RETURN_IF_ERROR(gisp_model_materialize(model, record, step, &raw));
      sub.reset(raw);
    }
    row->set_parameters(ModelInt(sub.get(), GISP_MODEL_TOTAL_PARAMETERS));
    CLI_RETURN_IF_ERROR(Evaluate(sub.get(), s.eval_path, [&](double ppl, int64_t tokens) {
      row->set_perplexity(ppl);
      row->set_eval_tokens(tokens);
    }));
    if (!s.formats.empty()) {
      // --out belongs to this run (a resumed run rewrites its exports like its reports).
      const UserPath dir = s.out.Child(absl::StrFormat("models/sparsity-%.2f", t));
      row->set_model_dir(dir.given);
      std::vector<std::string> written;
      CLI_RETURN_IF_ERROR(ExportAll(sub.get(), dir, s.formats, s.dtype, /*replace=*/true,
                                    row->mutable_exports(), &written));
    }
    std::fprintf(stderr, "target %.2f: step %d, sparsity %.4f, perplexity %s\n", t, step,
                 row->sparsity(),
                 row->has_perplexity() ? absl::StrFormat("%.3f", row->perplexity()).c_str() : "-");
  }
  return Status();
}

Status WriteReports(const Settings& s, const gisp::proto::RunReport& report) {
  const absl::StatusOr<std::string> json = gisp::ProtoToJson(report);
  if (!json.ok()) return Status(GISP_INTERNAL, std::string(json.status().message()));
  const std::string markdown = ReportMarkdown(report, gisp_objective_name(s.objective));
  for (const auto& [name, text] :
       {std::pair<std::string, std::string>{"report.json", *json}, {"report.md", markdown}}) {
    const std::string err = WriteAtomically(s.out.Child(name).path, text);
    if (!err.empty()) return Status(GISP_PERMISSION_DENIED, err);
  }
  const std::string plot_error = WritePlots(s.out.Child("sparsity_ppl.png").path,
                                            s.out.Child("sparsity_ppl.svg").path, report);
  if (!plot_error.empty()) std::fprintf(stderr, "warning: %s\n", plot_error.c_str());
  std::printf(
      "%s\nwritten to %s: record.pb, record.json, report.json, report.md, "
      "sparsity_ppl.png, sparsity_ppl.svg%s\n",
      markdown.c_str(), s.out.given.c_str(), s.formats.empty() ? "" : ", models/");
  return Status();
}

// The run's inputs, built on every rank before any collective call.
struct Inputs {
  Settings s;
  gisp::proto::RunReport report;
  PruneConfig config;
  Model model;
  Calibration data;
  Record resume;
};

// Everything a rank does on its own before pruning: settings, model, calibration data, the
// dense evaluation and the output directory (rank 0), the record to resume.
Status Setup(const MpiRanks& ranks, Inputs* in) {
  Settings& s = in->s;
  gisp::proto::RunReport& report = in->report;
  report.set_started_at(UtcNow());
  CLI_RETURN_IF_ERROR(ParseSettings(&s, &report));
  report.set_ranks(ranks.size());
  CLI_RETURN_IF_ERROR(MakeConfig(s, &in->config));
  CLI_RETURN_IF_ERROR(LoadModel(s, ranks, &report, &in->model));
  gisp_model* model = in->model.get();
  // The library's sparsity range: the dense row of the report and the targets' upper bound.
  double dense = 0, reachable = 0;
  CLI_RETURN_IF_ERROR(
      gisp_prune_config_sparsity_range(in->config.get(), model, &dense, &reachable));
  report.set_dense_sparsity(dense);
  for (double t : s.targets) {
    if (t > reachable) {
      return Fail(absl::StrFormat(
          "--targets: %.3f is above the sparsity ratio %.3f can reach (at most %.3f); raise "
          "--ratio or lower the target",
          t, s.ratio, reachable));
    }
  }
  if (ranks.root()) {
    const std::string out_error = PrepareOutputDir(s.out.path);
    if (!out_error.empty()) return Status(GISP_PERMISSION_DENIED, out_error);
  }
  CLI_RETURN_IF_ERROR(MakeCalibration(s, report, ranks.root(), model, &in->data));

  // The dense model is evaluated before the pruner changes its working copy (by rank 0 alone:
  // the others wait for it in the agreement that follows).
  if (!s.eval_path.empty() && ranks.root()) {
    std::fprintf(stderr, "evaluating the dense model on %s ...\n", report.evaluation().c_str());
    CLI_RETURN_IF_ERROR(Evaluate(model, s.eval_path, [&](double ppl, int64_t tokens) {
      report.set_dense_perplexity(ppl);
      report.set_dense_eval_tokens(tokens);
    }));
    std::fprintf(stderr, "dense perplexity %.3f over %lld tokens\n", report.dense_perplexity(),
                 static_cast<long long>(report.dense_eval_tokens()));
  }
  return LoadResume(s, ranks.root(), &in->resume);
}

Status Run(const MpiRanks& ranks, int* exit_code) {
  const auto start = Clock::now();
  Inputs in;
  // One rank's failed setup stops every rank here, naming it, before any collective call.
  CLI_RETURN_IF_ERROR(ranks.Agree(Setup(ranks, &in)));
  const Settings& s = in.s;
  gisp::proto::RunReport& report = in.report;
  Pruner pruner;
  CLI_RETURN_IF_ERROR(
      MakePruner(s, in.model.get(), in.data.get(), in.config.get(), in.resume.get(), &pruner));
  report.set_resumed_at_step(gisp_pruner_next_step(pruner.get()));
  bool interrupted = false;
  CLI_RETURN_IF_ERROR(RunSteps(pruner.get(), ranks, &interrupted));
  if (interrupted) {
    *exit_code = 130;
    return Status();
  }
  // The record is complete on every rank; rank 0 evaluates, exports and reports.
  if (!ranks.root()) return Status();
  Record record;
  {
    gisp_record* raw = nullptr;
    CLI_RETURN_IF_ERROR(gisp_pruner_record(pruner.get(), &raw));
    record.reset(raw);
  }
  CLI_RETURN_IF_ERROR(gisp_record_save(record.get(), s.out.Child("record.json").path.c_str()));
  CLI_RETURN_IF_ERROR(CollectRun(pruner.get(), record.get(), &report));
  CLI_RETURN_IF_ERROR(EvaluateTargets(s, in.model.get(), record.get(), &report));
  report.set_total_seconds(std::chrono::duration<double>(Clock::now() - start).count());
  return WriteReports(s, report);
}

}  // namespace
}  // namespace gisp_cli

int main(int argc, char** argv) {
  gisp_cli::UseSharedCoreOpenMpDefaults(argv);
  absl::SetProgramUsageMessage(
      "prunes a Llama-family model with GISP (global iterative structured pruning).\n\n"
      "  bazel run //tools:prune                   # the embedded tiny model\n"
      "  bazel run //tools:prune -- --model DIR --calib FILE --objective lm --ratio 0.7 \\\n"
      "      --steps 112 --targets 0.2,0.3,0.4,0.5 --eval FILE --out DIR\n"
      "  mpirun -np 4 bazel-bin/tools/prune --model DIR ...   # 4 ranks (docs/scaling.md)\n\n"
      "Rerunning with the same --out resumes an interrupted run.");
  gisp_cli::RecordGivenFlags(argc, argv);
  if (gisp_cli::PrintHelpIfAsked()) return 0;
  absl::ParseCommandLine(argc, argv);
  gisp_cli::MpiRanks ranks;
  gisp_cli::Status status = ranks.Start(absl::GetFlag(FLAGS_mpi), &argc, &argv);
  gisp_cli::g_rank = ranks.rank();
  gisp_cli::g_ranks = ranks.size();
  gisp_set_log_callback(&gisp_cli::OnLog,
                        absl::GetFlag(FLAGS_verbose) ? GISP_LOG_INFO : GISP_LOG_WARNING, nullptr);
  if (status.ok()) status = gisp_cancel_token_create(&gisp_cli::g_cancel);
  if (status.ok()) {
    std::signal(SIGINT, gisp_cli::OnSignal);
    std::signal(SIGTERM, gisp_cli::OnSignal);
    int exit_code = 0;
    status = gisp_cli::Run(ranks, &exit_code);
    if (status.ok()) return exit_code;
    if (status.code() == GISP_CANCELLED) {  // interrupted before the pruner started
      std::fprintf(stderr, "interrupted: %s\n", status.message().c_str());
      return 130;
    }
  }
  std::fprintf(stderr, "%serror (%s): %s\n", gisp_cli::RankPrefix().c_str(),
               gisp_code_name(status.code()), status.message().c_str());
  return status.code() == GISP_INVALID_ARGUMENT ? 2 : 1;
}
