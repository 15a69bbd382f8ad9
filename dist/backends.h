// The backends' factories, for make_communicator (communicator.cpp); each is defined only in a build
// that has its library (PANS_WITH_MPI, PANS_WITH_NCCL).
#pragma once

#include <memory>

#include "dist/communicator.h"

namespace pans {

std::unique_ptr<Communicator> make_single_communicator(const RankInfo& info);
std::unique_ptr<Communicator> make_mpi_communicator(const RankInfo& info, double timeout_seconds);
std::unique_ptr<Communicator> make_nccl_communicator(const RankInfo& info, double timeout_seconds);

}  // namespace pans
