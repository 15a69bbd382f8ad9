// PANS_MPI_CHECK(call): throws pans::Error with the call's text and MPI's message unless it returns
// MPI_SUCCESS. The communicators pans creates return errors (MPI_ERRORS_RETURN) instead of aborting.
#pragma once

#include <mpi.h>

#include <string>

#include "tensor/error.h"

namespace pans {

std::string mpi_error_text(int code);

}  // namespace pans

#define PANS_MPI_CHECK(call)                                                                                \
  do {                                                                                                      \
    const int pans_mpi_code = (call);                                                                       \
    if (pans_mpi_code != MPI_SUCCESS) PANS_FAIL(#call, " failed: ", ::pans::mpi_error_text(pans_mpi_code)); \
  } while (0)
