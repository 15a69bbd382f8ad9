#include "dist/launch_environment.h"

#include <cstdlib>
#include <limits>
#include <vector>

#include "tensor/error.h"

namespace pans {
namespace {

struct LauncherVariables {
  Launcher launcher;
  const char* rank;
  const char* world_size;
  const char* local_rank;
};

// In order of precedence (launch_environment.h says why).
const std::vector<LauncherVariables>& known_launchers() {
  static const std::vector<LauncherVariables> launchers = {
      {Launcher::OpenMpi, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
      {Launcher::Slurm, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"},
      {Launcher::Torchrun, "RANK", "WORLD_SIZE", "LOCAL_RANK"},
  };
  return launchers;
}

int integer_variable(const EnvironmentValues& environment, const LauncherVariables& launcher, const char* name) {
  const auto found = environment.find(name);
  PANS_CHECK(found != environment.end(), launcher.world_size, " is set (", launcher_description(launcher.launcher),
             ") but ", name, " is not: the launcher set only part of its variables");
  const std::string& text = found->second;
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  PANS_CHECK(!text.empty() && *end == '\0' && value >= 0 && value <= std::numeric_limits<int>::max(), name, "=\"", text,
             "\" is not a non-negative integer");
  return int(value);
}

}  // namespace

RankInfo rank_info_from_environment(const EnvironmentValues& environment) {
  for (const LauncherVariables& launcher : known_launchers()) {
    if (environment.count(launcher.world_size) == 0) continue;
    RankInfo info;
    info.launcher = launcher.launcher;
    info.world_size = integer_variable(environment, launcher, launcher.world_size);
    info.rank = integer_variable(environment, launcher, launcher.rank);
    info.local_rank = integer_variable(environment, launcher, launcher.local_rank);
    PANS_CHECK(info.world_size >= 1, launcher.world_size, "=", info.world_size, ": a job has at least one rank");
    PANS_CHECK(info.rank < info.world_size, launcher.rank, "=", info.rank, " is not below ", launcher.world_size, "=",
               info.world_size);
    PANS_CHECK(info.local_rank < info.world_size, launcher.local_rank, "=", info.local_rank, " is not below ",
               launcher.world_size, "=", info.world_size);
    return info;
  }
  return RankInfo{};
}

EnvironmentValues launch_environment() {
  std::vector<const char*> names;
  for (const LauncherVariables& launcher : known_launchers())
    names.insert(names.end(), {launcher.rank, launcher.world_size, launcher.local_rank});
  return read_environment(names);
}

std::string launcher_description(Launcher launcher) {
  switch (launcher) {
    case Launcher::OpenMpi:
      return "mpirun (OMPI_COMM_WORLD_*)";
    case Launcher::Slurm:
      return "srun (SLURM_*)";
    case Launcher::Torchrun:
      return "torchrun (RANK, WORLD_SIZE, LOCAL_RANK)";
    case Launcher::None:
      break;
  }
  return "no launcher";
}

}  // namespace pans
