// Which rank this process is, as its launcher says: OpenMPI's mpirun (OMPI_COMM_WORLD_RANK, _SIZE,
// _LOCAL_RANK), Slurm's srun (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID) or torchrun (RANK,
// WORLD_SIZE, LOCAL_RANK). With none of them the process is alone: rank 0 of 1.
//
// Order of precedence, most specific launcher first: mpirun inside an sbatch script sees Slurm's
// variables of the batch step too, and a torchrun inside an allocation likewise, so the launcher
// that started this very process must win. A launcher counts when its world-size variable is set
// (a plain sbatch script without --ntasks sets SLURM_PROCID but no SLURM_NTASKS: one process);
// then its rank and local-rank variables must be set too, as integers in range, or the result is an
// error naming the variable.
#pragma once

#include <string>

#include "config/environment.h"

namespace pans {

enum class Launcher { None, OpenMpi, Slurm, Torchrun };

struct RankInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  // the rank among the processes of this node: it picks the GPU
  Launcher launcher = Launcher::None;
};

// The rank from the launcher's variables in `environment` (a pure function, for tests).
RankInfo rank_info_from_environment(const EnvironmentValues& environment);

// The variables rank_info_from_environment reads, from this process's environment.
EnvironmentValues launch_environment();

// "mpirun (OMPI_COMM_WORLD_*)", "srun (SLURM_*)", "torchrun (RANK, WORLD_SIZE, LOCAL_RANK)", "no launcher".
std::string launcher_description(Launcher launcher);

}  // namespace pans
