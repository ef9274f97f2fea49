// `export`: deploys a finished (or partial) GISP run at any sparsity later, from the original
// model and the run's record, with no gradient pass. Uses only the C API (c_api/gisp.h), linked
// statically like the prune command's.
//
//   bazel run //tools:export -- --model DIR --record gisp-out/record.pb --targets 0.3,0.5
//       --export llama,sliced --out deploy/
//
// Writes <out>/sparsity-0.30/<format>/ per target (or <out>/step-12/<format>/ with --steps).
// Every output directory is checked before anything is written: a record of another model, a
// sparsity the record does not reach, an unknown format or an existing non-empty directory is
// an error naming what and why, and nothing is left behind. Exit status: 0 success, 1 error,
// 2 bad command line.
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "c_api/gisp.h"
#include "tools/cli/exports.h"
#include "tools/cli/flags.h"
#include "tools/cli/handles.h"
#include "tools/cli/openmp_env.h"
#include "tools/cli/paths.h"

ABSL_FLAG(std::string, model, "", "the original (dense) HF model directory the record was run on");
ABSL_FLAG(std::string, record, "", "record.pb or record.json of a gisp run");
ABSL_FLAG(std::string, targets, "", "decoder sparsities to export, comma-separated");
ABSL_FLAG(std::string, steps, "", "record steps to export instead of --targets, comma-separated");
ABSL_FLAG(std::string, export, "llama", "formats, comma-separated: sliced, llama, gguf, decilm");
ABSL_FLAG(std::string, dtype, "auto", "weights: auto (the checkpoint's) | f32 | bf16 | f16");
ABSL_FLAG(std::string, out, "", "output directory (one subdirectory per target and format)");

namespace gisp_cli {
namespace {

Status Fail(const std::string& message) { return Status(GISP_INVALID_ARGUMENT, message); }

struct Job {
  int32_t step = -1;
  UserPath dir;  // <out>/sparsity-0.30 or <out>/step-12
};

Status ExportJobs(gisp_model* model, const gisp_record* record, const std::vector<Job>& jobs,
                  const std::vector<ExportChoice>& formats, gisp_dtype dtype,
                  const std::vector<double>& sparsity, std::vector<std::string>* written) {
  for (const Job& job : jobs) {
    Model sub;
    {
      gisp_model* raw = nullptr;
      CLI_RETURN_IF_ERROR(gisp_model_materialize(model, record, job.step, &raw));
      sub.reset(raw);
    }
    google::protobuf::RepeatedPtrField<gisp::proto::ExportResult> rows;
    CLI_RETURN_IF_ERROR(
        ExportAll(sub.get(), job.dir, formats, dtype, /*replace=*/false, &rows, written));
    for (const gisp::proto::ExportResult& r : rows) {
      std::printf("step %d (sparsity %.4f): %s, %lld parameters (exact %lld), %s\n", job.step,
                  sparsity[static_cast<size_t>(job.step)], r.format().c_str(),
                  static_cast<long long>(r.parameters()),
                  static_cast<long long>(r.exact_parameters()), r.dir().c_str());
    }
  }
  return Status();
}

Status Run() {
  const std::string model_dir = ResolveUserPath(absl::GetFlag(FLAGS_model));
  const std::string record_path = ResolveUserPath(absl::GetFlag(FLAGS_record));
  const UserPath out = UserPath::Resolve(absl::GetFlag(FLAGS_out));
  if (model_dir.empty() || record_path.empty() || out.path.empty()) {
    return Fail("--model, --record and --out are required");
  }
  if (absl::GetFlag(FLAGS_targets).empty() == absl::GetFlag(FLAGS_steps).empty()) {
    return Fail("give exactly one of --targets and --steps");
  }
  std::vector<ExportChoice> formats;
  if (std::string e = ParseExportList(absl::GetFlag(FLAGS_export), &formats); !e.empty()) {
    return Fail(e);
  }
  if (formats.empty()) return Fail("--export names no format");
  gisp_dtype dtype;
  if (std::string e = ParseDtype(absl::GetFlag(FLAGS_dtype), &dtype); !e.empty()) return Fail(e);

  Record record;
  {
    gisp_record* raw = nullptr;
    CLI_RETURN_IF_ERROR(gisp_record_load(record_path.c_str(), &raw));
    record.reset(raw);
  }
  const int32_t n = gisp_record_num_steps(record.get());
  std::vector<double> sparsity(static_cast<size_t>(n));
  CLI_RETURN_IF_ERROR(gisp_record_step_sparsity(record.get(), sparsity.data(), sparsity.size()));

  // Resolve every target to a step and check every output directory before any work.
  std::vector<Job> jobs;
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_targets), ',', absl::SkipWhitespace())) {
    double t = 0;
    if (!absl::SimpleAtod(part, &t) || !(t > 0 && t < 1)) {
      return Fail(absl::StrCat("--targets: \"", part, "\" is not a sparsity in (0, 1)"));
    }
    Job job;
    Status s = gisp_record_nearest_step(record.get(), t, &job.step);
    if (!s.ok()) {
      return Status(s.code(), absl::StrCat("--targets ", part, ": ", s.message()));
    }
    job.dir = out.Child(absl::StrFormat("sparsity-%.2f", t));
    jobs.push_back(job);
  }
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_steps), ',', absl::SkipWhitespace())) {
    Job job;
    if (!absl::SimpleAtoi(part, &job.step) || job.step < 0 || job.step >= n) {
      return Fail(absl::StrCat("--steps: \"", part, "\" is not a completed step of ", record_path,
                               " (0 to ", n - 1, ")"));
    }
    job.dir = out.Child(absl::StrCat("step-", job.step));
    jobs.push_back(job);
  }
  for (const Job& job : jobs) {
    if (std::string e = CheckExportDirsFree(job.dir, formats); !e.empty()) {
      return Status(GISP_FAILED_PRECONDITION, e);
    }
  }

  Model model;
  {
    gisp_model* raw = nullptr;
    CLI_RETURN_IF_ERROR(gisp_model_load(model_dir.c_str(), GISP_DEVICE_CPU, 0, &raw));
    model.reset(raw);
  }
  // On any error, remove what this invocation wrote, so a failed export leaves nothing.
  std::vector<std::string> written;
  Status status = ExportJobs(model.get(), record.get(), jobs, formats, dtype, sparsity, &written);
  if (!status.ok()) {
    for (const std::string& dir : written) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
  return status;
}

}  // namespace
}  // namespace gisp_cli

int main(int argc, char** argv) {
  gisp_cli::UseSharedCoreOpenMpDefaults(argv);
  absl::SetProgramUsageMessage(
      "exports a gisp run's subnetworks from the original model and the record.\n\n"
      "  bazel run //tools:export -- --model DIR --record RUN/record.pb --targets 0.3,0.5 \\\n"
      "      --export llama,sliced --out DIR");
  gisp_cli::RecordGivenFlags(argc, argv);
  if (gisp_cli::PrintHelpIfAsked()) return 0;
  absl::ParseCommandLine(argc, argv);
  gisp_cli::Status status = gisp_cli::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "error (%s): %s\n", gisp_code_name(status.code()),
                 status.message().c_str());
    return status.code() == GISP_INVALID_ARGUMENT ? 2 : 1;
  }
  return 0;
}
