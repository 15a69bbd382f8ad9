// MPI is initialised once per process and finalised at exit: MPI_Init cannot run again after
// MPI_Finalize, and a process may make several communicators (tests do, and NCCL's id exchange
// borrows MPI). The first use initialises it with MPI_THREAD_FUNNELED (only the thread that
// initialised MPI calls it; the collective watchdog never does).
#pragma once

#include <mpi.h>

namespace pans {

// Initialises MPI if this process has not yet, and returns a duplicate of MPI_COMM_WORLD that
// returns errors instead of aborting; the caller frees it with MPI_Comm_free.
MPI_Comm mpi_world_duplicate();

}  // namespace pans
