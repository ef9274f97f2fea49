// Command-line helpers shared by gisp's tools, on absl's public flags API only.
#ifndef GISP_TOOLS_CLI_FLAGS_H_
#define GISP_TOOLS_CLI_FLAGS_H_

#include <string>

namespace gisp_cli {

// Remembers which flags the user wrote (names without dashes; "--nofoo" counts as foo), read from
// argv before absl parses it, for defaults that depend on whether a flag was given.
void RecordGivenFlags(int argc, char** argv);
bool FlagGiven(const std::string& name);

// When --help (or -h, --helpfull, --helpshort) was given: prints the usage message and the
// tool's own flags (those defined under tools/cli/) to stdout and returns true; the caller then
// exits with status 0. Call after RecordGivenFlags and absl::SetProgramUsageMessage.
bool PrintHelpIfAsked();

}  // namespace gisp_cli

#endif  // GISP_TOOLS_CLI_FLAGS_H_
