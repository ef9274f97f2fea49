#!/usr/bin/env bash
# Writes a C++ header holding a Python file as a raw string (gisp::kDecilmConfigurationPy):
#   gisp/export/embed_python.sh gisp/export/configuration_decilm.py OUT.h
# Used by the //gisp/export:configuration_decilm_py genrule and by tools/fuzz.sh, which builds
# outside Bazel. Fails if the file contains the raw string's closing delimiter.
set -euo pipefail
in="$1"
out="$2"
if grep -q ')gisp_py' "$in"; then
  echo "$in: contains the raw-string delimiter )gisp_py" >&2
  exit 1
fi
{
  echo "// Generated from $in by gisp/export/embed_python.sh."
  echo '#ifndef GISP_EXPORT_CONFIGURATION_DECILM_PY_H_'
  echo '#define GISP_EXPORT_CONFIGURATION_DECILM_PY_H_'
  echo 'namespace gisp {'
  printf '%s' 'inline constexpr char kDecilmConfigurationPy[] = R"gisp_py('
  cat "$in"
  echo ')gisp_py";'
  echo '}  // namespace gisp'
  echo '#endif  // GISP_EXPORT_CONFIGURATION_DECILM_PY_H_'
} > "$out"
