// The run report: report.json is gisp.proto's RunReport in protobuf's JSON mapping (written with
// gisp::ProtoToJson), report.md a Markdown summary of the same message for people, and a plot
// of decoder sparsity against perplexity (PNG and SVG).
#ifndef GISP_TOOLS_CLI_REPORT_H_
#define GISP_TOOLS_CLI_REPORT_H_

#include <string>

#include "gisp/proto/gisp.pb.h"

namespace gisp_cli {

// `objective` is the objective's name (gisp_objective_name).
std::string ReportMarkdown(const gisp::proto::RunReport& report, const std::string& objective);
// Writes the sparsity/perplexity chart (or the calibration loss per step) as PNG and SVG. "" on
// success.
std::string WritePlots(const std::string& png_path, const std::string& svg_path,
                       const gisp::proto::RunReport& report);

// Writes `contents` to `path` through a temporary file and rename. "" on success.
std::string WriteAtomically(const std::string& path, const std::string& contents);

}  // namespace gisp_cli

#endif  // GISP_TOOLS_CLI_REPORT_H_
