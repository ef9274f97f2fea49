/*
 * gisp_mpi.h: an MPI communicator for gisp's data-parallel pruning (see docs/scaling.md).
 *
 * Header-only, C99 or C++: include it in a program that already links MPI (mpicc, or the flags
 * of `pkg-config ompi-c`); libgisp.so itself never links MPI, so hosts without MPI are not
 * affected. Works with any MPI implementation (Open MPI, MPICH and their derivatives).
 *
 *   MPI_Init(&argc, &argv);
 *   gisp_communicator* comm = NULL;
 *   gisp_status* s = gisp_mpi_communicator_create(MPI_COMM_WORLD, &comm);
 *   ... gisp_context_set_communicator(ctx, comm); load the model with that context; build
 *   ... the same calibration data on every rank; gisp_communicator_agree(comm, setup_status);
 *   ... gisp_pruner_create / gisp_pruner_run on every rank
 *   gisp_communicator_free(comm);
 *   MPI_Finalize();
 *
 * gisp's collectives travel on `mpi_comm` in program order, so the host must not run its own
 * collectives on the same communicator from another thread at the same time (duplicate it with
 * MPI_Comm_dup if it does). The MPI_Comm must stay valid while gisp uses the communicator.
 */
#ifndef GISP_C_API_GISP_MPI_H_
#define GISP_C_API_GISP_MPI_H_

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "gisp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MPI counts are int: larger buffers go in chunks of this many elements (or bytes). 2^28 keeps
 * every message below 2 GiB, which some transports cannot exceed. */
#define GISP_MPI_CHUNK ((size_t)1 << 28)

/* The MPI_Comm travels in user_data as its Fortran handle, an integer: no allocation, nothing to
 * free, and valid for every MPI implementation (MPI_Comm is a pointer in Open MPI, an int in
 * MPICH). */
static inline MPI_Comm gisp_mpi_comm_of(void* user_data) {
  return MPI_Comm_f2c((MPI_Fint)(intptr_t)user_data);
}

/* MPI_Allreduce (sum) in place over `count` elements of `size` bytes, in chunks. */
static inline int gisp_mpi_all_reduce(void* data, size_t count, MPI_Datatype type, size_t size,
                                      void* user_data) {
  const MPI_Comm comm = gisp_mpi_comm_of(user_data);
  char* p = (char*)data;
  while (count > 0) {
    const size_t n = count < GISP_MPI_CHUNK ? count : GISP_MPI_CHUNK;
    const int rc = MPI_Allreduce(MPI_IN_PLACE, p, (int)n, type, MPI_SUM, comm);
    if (rc != MPI_SUCCESS) return rc;
    p += n * size;
    count -= n;
  }
  return 0;
}

static inline int gisp_mpi_all_reduce_f32(float* data, size_t count, void* user_data) {
  return gisp_mpi_all_reduce(data, count, MPI_FLOAT, sizeof(float), user_data);
}

static inline int gisp_mpi_all_reduce_f64(double* data, size_t count, void* user_data) {
  return gisp_mpi_all_reduce(data, count, MPI_DOUBLE, sizeof(double), user_data);
}

static inline int gisp_mpi_broadcast(void* data, size_t bytes, int32_t root, void* user_data) {
  const MPI_Comm comm = gisp_mpi_comm_of(user_data);
  char* p = (char*)data;
  while (bytes > 0) {
    const size_t n = bytes < GISP_MPI_CHUNK ? bytes : GISP_MPI_CHUNK;
    const int rc = MPI_Bcast(p, (int)n, MPI_BYTE, (int)root, comm);
    if (rc != MPI_SUCCESS) return rc;
    p += n;
    bytes -= n;
  }
  return 0;
}

/* A gisp communicator over `mpi_comm` (its rank and size). MPI must be initialized. The caller
 * owns `*out` (gisp_communicator_free). */
static inline gisp_status* gisp_mpi_communicator_create(MPI_Comm mpi_comm,
                                                        gisp_communicator** out) {
  int rank = 0, size = 1;
  gisp_communicator* comm = NULL;
  gisp_status* status = NULL;
  MPI_Comm_rank(mpi_comm, &rank);
  MPI_Comm_size(mpi_comm, &size);
  status = gisp_communicator_create((int32_t)rank, (int32_t)size,
                                    (void*)(intptr_t)MPI_Comm_c2f(mpi_comm), &comm);
  if (status == NULL) status = gisp_communicator_set_all_reduce_f32(comm, gisp_mpi_all_reduce_f32);
  if (status == NULL) status = gisp_communicator_set_all_reduce_f64(comm, gisp_mpi_all_reduce_f64);
  if (status == NULL) status = gisp_communicator_set_broadcast(comm, gisp_mpi_broadcast);
  if (status != NULL) {
    gisp_communicator_free(comm);
    return status;
  }
  *out = comm;
  return NULL;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GISP_C_API_GISP_MPI_H_ */
