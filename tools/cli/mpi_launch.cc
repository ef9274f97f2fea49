#include "tools/cli/mpi_launch.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "c_api/gisp_mpi.h"

namespace gisp_cli {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  int out = 0;
  return v != nullptr && absl::SimpleAtoi(v, &out) ? out : fallback;
}

constexpr const char* kPmiVariables[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"};

bool PmiVariableSet() {
  for (const char* name : kPmiVariables) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

// Each task would prune alone and write the same record.
Status AloneUnderSrun(int tasks) {
  return Status(GISP_FAILED_PRECONDITION,
                absl::StrCat("srun started ", tasks,
                             " tasks but MPI sees this one alone: launch with an MPI plugin "
                             "(srun --mpi=pmix for Open MPI; `srun --mpi=list` lists them) or "
                             "with mpirun"));
}

}  // namespace

std::string MpiLauncherVariable() {
  for (const char* name : kPmiVariables) {
    if (std::getenv(name) != nullptr) return name;
  }
  // srun sets SLURM_STEP_NUM_TASKS for every task of a step; one task is a plain process.
  if (EnvInt("SLURM_STEP_NUM_TASKS", 1) > 1) return "SLURM_STEP_NUM_TASKS";
  return "";
}

MpiRanks::~MpiRanks() {
  gisp_communicator_free(comm_);
  if (initialized_) MPI_Finalize();
}

Status MpiRanks::Start(const std::string& mode, int* argc, char*** argv) {
  if (mode != "auto" && mode != "on" && mode != "off") {
    return Status(GISP_INVALID_ARGUMENT,
                  absl::StrCat("--mpi must be auto, on or off, got \"", mode, "\""));
  }
  if (mode == "off" || (mode == "auto" && MpiLauncherVariable().empty())) return Status();
  // srun without an MPI plugin (--mpi=none) sets no PMI variable. Refused before MPI_Init: Open
  // MPI's MPI_Init aborts such a task itself ("OMPI was not built with SLURM's PMI support"),
  // and an MPI that does start would give each task a job of its own.
  const int tasks = EnvInt("SLURM_STEP_NUM_TASKS", 1);
  if (tasks > 1 && !PmiVariableSet()) return AloneUnderSrun(tasks);
  if (MPI_Init(argc, argv) != MPI_SUCCESS) {
    return Status(GISP_UNAVAILABLE, "MPI_Init failed");
  }
  initialized_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm local;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) ==
      MPI_SUCCESS) {
    MPI_Comm_size(local, &local_size_);
    MPI_Comm_rank(local, &local_rank_);
    MPI_Comm_free(&local);
  }
  if (size_ == 1 && tasks > 1) return AloneUnderSrun(tasks);
  if (size_ == 1) return Status();
  return gisp_mpi_communicator_create(MPI_COMM_WORLD, &comm_);
}

Status MpiRanks::Agree(Status local) const {
  if (comm_ == nullptr) return local;
  const std::string message = local.message();
  return gisp_communicator_agree(comm_, local.code(), message.c_str());
}

}  // namespace gisp_cli
