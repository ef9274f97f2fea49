#include "tools/cli/report.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gisp_cli {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.10g", v);
}

}  // namespace

std::vector<StepTiming> ParseTimings(const std::string& json) {
  // The C API writes a flat array of objects with numeric fields in a fixed order; a small
  // scanner is enough and keeps the CLI on the C API alone.
  std::vector<StepTiming> out;
  size_t pos = 0;
  auto field = [&](const char* key, size_t from, double* value) {
    const std::string k = absl::StrCat("\"", key, "\": ");
    const size_t at = json.find(k, from);
    if (at == std::string::npos) return false;
    *value = std::strtod(json.c_str() + at + k.size(), nullptr);
    return true;
  };
  while ((pos = json.find('{', pos)) != std::string::npos) {
    StepTiming t;
    double step = 0;
    if (!field("step", pos, &step) || !field("seconds", pos, &t.seconds) ||
        !field("gradient_seconds", pos, &t.gradient) ||
        !field("scoring_seconds", pos, &t.scoring) || !field("ranking_seconds", pos, &t.ranking) ||
        !field("compaction_seconds", pos, &t.compaction)) {
      break;
    }
    t.step = static_cast<int32_t>(step);
    out.push_back(t);
    ++pos;
  }
  return out;
}

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

std::string ReportJson(const RunSummary& s) {
  std::string j = "{\n";
  absl::StrAppend(&j, "  \"gisp_version\": ", Quote(s.gisp_version), ",\n");
  absl::StrAppend(&j, "  \"model\": ", Quote(s.model), ",\n");
  absl::StrAppend(&j, "  \"calibration\": ", Quote(s.calib), ",\n");
  absl::StrAppend(&j, "  \"evaluation\": ", Quote(s.eval), ",\n");
  absl::StrAppend(&j, "  \"objective\": ", Quote(s.objective), ",\n");
  absl::StrAppend(&j, "  \"device\": ", Quote(s.device), ",\n");
  absl::StrAppend(&j, "  \"ranks\": ", s.ranks, ",\n");
  absl::StrAppend(&j, "  \"ratio\": ", Num(s.ratio), ",\n");
  absl::StrAppend(&j, "  \"steps\": ", s.steps, ",\n");
  absl::StrAppend(&j, "  \"resumed_at_step\": ", s.resumed_at, ",\n");
  absl::StrAppend(&j, "  \"dense_parameters\": ", s.dense_parameters, ",\n");
  absl::StrAppend(&j, "  \"dense_perplexity\": ", Num(s.dense_perplexity), ",\n");
  absl::StrAppend(&j, "  \"eval_tokens\": ", s.dense_eval_tokens, ",\n");
  absl::StrAppend(&j, "  \"total_seconds\": ", Num(s.total_seconds), ",\n");
  j += "  \"targets\": [";
  for (size_t i = 0; i < s.targets.size(); ++i) {
    const TargetRow& t = s.targets[i];
    absl::StrAppend(&j, i ? ",\n" : "\n", "    {\"requested_sparsity\": ", Num(t.requested),
                    ", \"step\": ", t.step, ", \"sparsity\": ", Num(t.sparsity),
                    ", \"perplexity\": ", Num(t.perplexity), ", \"parameters\": ", t.parameters,
                    ", \"model_dir\": ", Quote(t.model_dir), ", \"exports\": [");
    for (size_t e = 0; e < t.exports.size(); ++e) {
      const ExportRow& x = t.exports[e];
      absl::StrAppend(&j, e ? ", " : "", "{\"format\": ", Quote(x.format),
                      ", \"dir\": ", Quote(x.dir), ", \"parameters\": ", x.parameters,
                      ", \"exact_parameters\": ", x.exact_parameters, "}");
    }
    j += "]}";
  }
  j += s.targets.empty() ? "],\n" : "\n  ],\n";
  j += "  \"steps_detail\": [";
  for (size_t i = 0; i < s.step_rows.size(); ++i) {
    const StepRow& r = s.step_rows[i];
    absl::StrAppend(&j, i ? ",\n" : "\n", "    {\"step\": ", r.step,
                    ", \"target_ratio\": ", Num(r.target_ratio),
                    ", \"sparsity\": ", Num(r.sparsity), ", \"calibration_loss\": ", Num(r.loss),
                    ", \"seconds\": ", Num(r.seconds), ", \"gradient_seconds\": ", Num(r.gradient),
                    ", \"scoring_seconds\": ", Num(r.scoring),
                    ", \"ranking_seconds\": ", Num(r.ranking),
                    ", \"compaction_seconds\": ", Num(r.compaction), "}");
  }
  j += s.step_rows.empty() ? "]\n" : "\n  ]\n";
  j += "}\n";
  return j;
}

std::string ReportMarkdown(const RunSummary& s) {
  std::string m = "# gisp pruning report\n\n";
  absl::StrAppend(&m, "- model: `", s.model, "`\n- calibration: `", s.calib, "` (objective ",
                  s.objective, ")\n- schedule: ratio ", Num(s.ratio), ", ", s.steps,
                  " steps\n- device: ", s.device,
                  s.ranks > 1 ? absl::StrCat(", ", s.ranks, " MPI ranks") : "",
                  "\n- evaluation: `",
                  s.eval.empty() ? "none" : s.eval,
                  "`\n- total time: ", absl::StrFormat("%.1f s", s.total_seconds), "\n\n");
  m += "| target | step | decoder sparsity | parameters | perplexity |\n";
  m += "|---:|---:|---:|---:|---:|\n";
  absl::StrAppendFormat(&m, "| dense | - | %.2f%% | %.2fM | %s |\n", 0.0, s.dense_parameters / 1e6,
                        std::isfinite(s.dense_perplexity)
                            ? absl::StrFormat("%.2f", s.dense_perplexity)
                            : std::string("-"));
  for (const TargetRow& t : s.targets) {
    absl::StrAppendFormat(
        &m, "| %.0f%% | %d | %.2f%% | %.2fM | %s |\n", 100 * t.requested, t.step, 100 * t.sparsity,
        t.parameters / 1e6,
        std::isfinite(t.perplexity) ? absl::StrFormat("%.2f", t.perplexity) : std::string("-"));
  }
  bool exported = false;
  for (const TargetRow& t : s.targets) exported = exported || !t.exports.empty();
  if (exported) {
    m += "\n## Exports\n\n| target | format | parameters | exact (sliced) | padding | directory "
         "|\n|---:|---|---:|---:|---:|---|\n";
    for (const TargetRow& t : s.targets) {
      for (const ExportRow& x : t.exports) {
        absl::StrAppendFormat(
            &m, "| %.0f%% | %s | %.4fM | %.4fM | %+.2f%% | `%s` |\n", 100 * t.requested, x.format,
            x.parameters / 1e6, x.exact_parameters / 1e6,
            100.0 * (x.parameters - x.exact_parameters) / std::max<double>(1, x.exact_parameters),
            x.dir);
      }
    }
  }
  bool timed = false;
  for (const StepRow& r : s.step_rows) timed = timed || std::isfinite(r.seconds);
  if (timed) {
    m += "\n## Steps\n\n| step | sparsity | calibration loss | seconds | gradient | scoring + "
         "ranking | compaction |\n|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const StepRow& r : s.step_rows) {
      if (!std::isfinite(r.seconds)) continue;
      absl::StrAppendFormat(
          &m, "| %d | %.2f%% | %.4f | %.3f | %.3f | %.4f (%.2f%%) | %.4f |\n", r.step,
          100 * r.sparsity, r.loss, r.seconds, r.gradient, r.scoring + r.ranking,
          100 * (r.scoring + r.ranking) / std::max(r.seconds, 1e-12), r.compaction);
    }
  }
  return m;
}

}  // namespace gisp_cli
