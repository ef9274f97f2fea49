#!/usr/bin/env bash
# Installs what gisp needs to build and test on a fresh Debian 12 machine (idempotent; prints
# nothing when everything is present). Bazel 4.2.3 and every library come from Debian's archive,
# see ../shared/docs/toolchain.md for why each one is needed.
#   tools/setup.sh           what building and running gisp needs
#   tools/setup.sh --tests   also what the PyTorch oracle suites need (tools/test.sh passes this)
set -euo pipefail

packages=(
  bazel-bootstrap bazel-rules-java pkg-config
  libabsl-dev libeigen3-dev libdnnl-dev libprotobuf-dev protobuf-compiler nlohmann-json3-dev
  libgtest-dev libgmock-dev
  libpng-dev zlib1g-dev libfreetype-dev fonts-dejavu-core libxxhash-dev
  golang-go python3-numpy python3-pytest
  # MPI for multi-process pruning (the prune CLI under mpirun/srun, docs/scaling.md); libgisp.so
  # itself never links it.
  libopenmpi-dev openmpi-bin
  # The protobuf runtime libgisp.so links statically is built from Debian's source package
  # (tools/deps/build_protobuf_pic.sh); CMake also builds the SDK's CMake consumer test.
  cmake g++ make curl ca-certificates patch xz-utils
)
if [ "${1:-}" = "--tests" ]; then
  # The PyTorch reference (tools/reference), the fixture generators' self-tests and the tiny
  # model's training checks (tools/train_tiny: its tokenizer and its King James corpus).
  packages+=(python3-torch python3-sentencepiece bible-kjv)
  # tools/ci/suite_portable.sh runs gisp on emulated CPUs with and without AVX2.
  packages+=(qemu-user)
  # The export consumer tests build llama-cpp-python from source (tools/consumers/setup_venv.sh).
  packages+=(cmake g++)
  # The libFuzzer targets (tools/fuzz.sh): clang 14 with its libFuzzer/ASan/UBSan runtimes.
  packages+=(clang libclang-rt-14-dev)
  # tools/tsan_openmp.sh: LLVM's OpenMP runtime and Archer, its ThreadSanitizer tool.
  packages+=(libomp-14-dev)
  # The binding suites check their C declarations against c_api/gisp.h by regenerating them:
  # bindgen for Rust (it reads the header through libclang) and pycparser for Python.
  packages+=(bindgen python3-pycparser)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
  missing+=(cargo)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Once per machine (a few minutes): the position-independent protobuf runtime (see the script).
"$(dirname "$0")/deps/build_protobuf_pic.sh"

if [ "${1:-}" = "--tests" ]; then
  # tools/ci/suite_aarch64.sh: the aarch64 cross compiler and arm64 libraries (multiarch). Not
  # fatal: apt may refuse (it never removes host packages for them); the suite then fails naming
  # what is missing, and everything else still gets tested.
  "$(dirname "$0")/deps/setup_aarch64.sh" ||
    echo "setup: the aarch64 cross dependencies are not installed (see tools/deps/setup_aarch64.sh)" >&2
  # The runtimes that load gisp's exports (transformers, gguf, llama-cpp-python), pinned, in the
  # git-ignored project venv .consumers/venv; quiet when present, never fatal (the consumer
  # tests then skip and say why).
  "$(dirname "$0")/consumers/setup_venv.sh"
fi
