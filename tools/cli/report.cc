#include "tools/cli/report.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "c_api/gisp.h"

namespace gisp_cli {
namespace {

std::string Perplexity(bool has, double value) {
  return has ? absl::StrFormat("%.2f", value) : std::string("-");
}

}  // namespace

std::string WriteAtomically(const std::string& path, const std::string& contents) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno));
  const bool ok = std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    return absl::StrCat("cannot write ", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::StrCat("cannot rename onto ", path, ": ", std::strerror(errno));
  }
  return "";
}

std::string ReportMarkdown(const gisp::proto::RunReport& r, const std::string& objective) {
  const gisp::proto::Record& record = r.record();
  std::string m = "# gisp pruning report\n\n";
  absl::StrAppend(&m, "- model: `", r.model(), "`\n- calibration: `", r.calibration(),
                  "` (objective ", objective, ")\n");
  // gisp.proto's Method numbers are the C API's gisp_method values.
  const char* method = gisp_method_name(static_cast<gisp_method>(record.config().method()));
  if (record.config().method() == gisp::proto::METHOD_GISP) {
    absl::StrAppend(&m, "- method: gisp, ratio ", absl::StrFormat("%.10g", record.config().ratio()),
                    ", ", record.config().steps(), " steps\n");
  } else {
    // Score-once methods: one step per target, each at the measured sparsity nearest it.
    absl::StrAppend(&m, "- method: ", method != nullptr ? method : "unknown", ", scored once, ",
                    record.config().steps(), " target sparsities\n");
  }
  absl::StrAppend(&m, "- device: ", r.device(),
                  r.ranks() > 1 ? absl::StrCat(", ", r.ranks(), " MPI ranks") : "",
                  "\n- evaluation: `", r.evaluation().empty() ? "none" : r.evaluation(),
                  "`\n- total time: ", absl::StrFormat("%.1f s", r.total_seconds()), "\n\n");
  m += "| target | step | decoder sparsity | parameters | perplexity |\n";
  m += "|---:|---:|---:|---:|---:|\n";
  absl::StrAppendFormat(&m, "| dense | - | %.2f%% | %.2fM | %s |\n", 100 * r.dense_sparsity(),
                        r.dense_parameters() / 1e6,
                        Perplexity(r.has_dense_perplexity(), r.dense_perplexity()));
  for (const gisp::proto::TargetResult& t : r.targets()) {
    absl::StrAppendFormat(&m, "| %.0f%% | %d | %.2f%% | %.2fM | %s |\n",
                          100 * t.requested_sparsity(), t.step(), 100 * t.sparsity(),
                          t.parameters() / 1e6, Perplexity(t.has_perplexity(), t.perplexity()));
  }
  bool exported = false;
  for (const gisp::proto::TargetResult& t : r.targets()) exported = exported || t.exports_size();
  if (exported) {
    m += "\n## Exports\n\n| target | format | parameters | exact (sliced) | padding | directory "
         "|\n|---:|---|---:|---:|---:|---|\n";
    for (const gisp::proto::TargetResult& t : r.targets()) {
      for (const gisp::proto::ExportResult& x : t.exports()) {
        absl::StrAppendFormat(&m, "| %.0f%% | %s | %.4fM | %.4fM | %+.2f%% | `%s` |\n",
                              100 * t.requested_sparsity(), x.format(), x.parameters() / 1e6,
                              x.exact_parameters() / 1e6,
                              100.0 * (x.parameters() - x.exact_parameters()) /
                                  std::max<double>(1, x.exact_parameters()),
                              x.dir());
      }
    }
  }
  if (r.timings_size() > 0) {
    m += "\n## Steps\n\n| step | sparsity | calibration loss | seconds | gradient | scoring + "
         "ranking | compaction |\n|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const gisp::proto::StepTiming& t : r.timings()) {
      if (t.step() < 0 || t.step() >= record.steps_size()) continue;
      const gisp::proto::StepRecord& step = record.steps(t.step());
      const double ranked = t.scoring_seconds() + t.ranking_seconds();
      absl::StrAppendFormat(&m, "| %d | %.2f%% | %.4f | %.3f | %.3f | %.4f (%.2f%%) | %.4f |\n",
                            t.step(), 100 * step.sparsity(), step.calibration_loss(), t.seconds(),
                            t.gradient_seconds(), ranked,
                            100 * ranked / std::max(t.seconds(), 1e-12), t.compaction_seconds());
    }
  }
  return m;
}

}  // namespace gisp_cli
