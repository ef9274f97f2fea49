#include "tools/cli/flags.h"

#include <cstdio>
#include <map>
#include <set>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"

namespace gisp_cli {
namespace {

std::set<std::string>& Given() {
  static auto* given = new std::set<std::string>();
  return *given;
}

}  // namespace

void RecordGivenFlags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    arg = arg.substr(arg[1] == '-' ? 2 : 1);
    arg = arg.substr(0, arg.find('='));
    Given().insert(arg);
    if (arg.rfind("no", 0) == 0) Given().insert(arg.substr(2));
  }
}

bool FlagGiven(const std::string& name) { return Given().count(name) > 0; }

bool PrintHelpIfAsked() {
  bool asked = false;
  for (const char* help : {"help", "helpfull", "helpshort", "h"}) asked = asked || FlagGiven(help);
  if (!asked) return false;
  std::printf("%s\n\nflags:\n", std::string(absl::ProgramUsageMessage()).c_str());
  std::map<std::string, const absl::CommandLineFlag*> ours;  // sorted by name
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::StrContains(flag->Filename(), "tools/cli/")) ours[std::string(name)] = flag;
  }
  for (const auto& [name, flag] : ours) {
    std::printf("  --%s: %s\n      default: %s\n", name.c_str(), flag->Help().c_str(),
                flag->DefaultValue().c_str());
  }
  return true;
}

}  // namespace gisp_cli
