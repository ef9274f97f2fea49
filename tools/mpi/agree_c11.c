/* c_api/gisp_mpi.h as a C11 host uses it, outside Bazel: tools/ci/suite_mpi.sh compiles it with
 * `mpicc -std=c11 -pedantic -Wall -Wextra -Werror` against the built libgisp and runs it on two
 * ranks. Rank 1 reports a failed setup; gisp_communicator_agree must give both ranks that
 * failure, naming rank 1; then both agree on success. Prints "rank R: <code> <message>" lines
 * and exits 0 when both answers are right. */
#include <stdio.h>
#include <string.h>

#include "c_api/gisp_mpi.h"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, failures = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  gisp_communicator* comm = NULL;
  gisp_status* s = gisp_mpi_communicator_create(MPI_COMM_WORLD, &comm);
  if (s != NULL) {
    fprintf(stderr, "rank %d: %s\n", rank, gisp_status_message(s));
    gisp_status_free(s);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  s = rank == 1 ? gisp_communicator_agree(comm, GISP_NOT_FOUND, "calib.txt does not exist")
                : gisp_communicator_agree(comm, GISP_OK, NULL);
  printf("rank %d: %s %s\n", rank, gisp_code_name(gisp_status_code(s)), gisp_status_message(s));
  failures += gisp_status_code(s) != GISP_NOT_FOUND ||
              strcmp(gisp_status_message(s), "rank 1 of 2: calib.txt does not exist") != 0;
  gisp_status_free(s);
  s = gisp_communicator_agree(comm, GISP_OK, NULL);
  failures += s != NULL;
  gisp_status_free(s);
  gisp_communicator_free(comm);
  MPI_Finalize();
  return failures == 0 ? 0 : 1;
}
