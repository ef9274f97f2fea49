// MPI for the prune CLI. Started by mpirun or srun, the CLI initializes MPI itself and prunes with
// MPI_COMM_WORLD's ranks (docs/scaling.md); started any other way it never initializes MPI, so a
// plain run behaves exactly as before.
#ifndef GISP_TOOLS_CLI_MPI_LAUNCH_H_
#define GISP_TOOLS_CLI_MPI_LAUNCH_H_

#include <string>

#include "c_api/gisp.h"
#include "tools/cli/handles.h"

namespace gisp_cli {

// The launcher variable in this process's environment that marks it as one rank of an MPI job
// (OMPI_COMM_WORLD_SIZE from Open MPI's mpirun, PMIX_RANK from PMIx launchers such as srun
// --mpi=pmix, PMI_RANK from MPICH's hydra or srun --mpi=pmi2, SLURM_STEP_NUM_TASKS above 1 from
// srun), or "" when there is none.
std::string MpiLauncherVariable();

class MpiRanks {
 public:
  MpiRanks() = default;
  ~MpiRanks();  // finalizes MPI when Start initialized it
  MpiRanks(const MpiRanks&) = delete;
  MpiRanks& operator=(const MpiRanks&) = delete;

  // mode "auto": MPI when MpiLauncherVariable() finds a launcher; "on": always; "off": never.
  // Errors: an unknown mode; srun that started several tasks which MPI did not join into one
  // job (srun without an MPI plugin: no PMI variable, refused before MPI_Init, whose Open MPI
  // version aborts the task); MPI's own initialization errors.
  Status Start(const std::string& mode, int* argc, char*** argv);

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  // Ranks of this job on this machine (1 without MPI), which share its cores and GPUs, and this
  // one's index among them.
  int local_size() const { return local_size_; }
  int local_rank() const { return local_rank_; }
  // The communicator for gisp_context_set_communicator: null for a single process.
  gisp_communicator* comm() const { return comm_; }

  // Every rank's setup outcome agreed on (gisp_communicator_agree): OK when all succeeded, else
  // the lowest failed rank's error, naming it. `local` itself for a single process.
  Status Agree(Status local) const;

 private:
  bool initialized_ = false;
  int rank_ = 0;
  int size_ = 1;
  int local_size_ = 1;
  int local_rank_ = 0;
  gisp_communicator* comm_ = nullptr;
};

}  // namespace gisp_cli

#endif  // GISP_TOOLS_CLI_MPI_LAUNCH_H_
