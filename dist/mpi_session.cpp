#include "dist/mpi_session.h"

#include "dist/mpi_check.h"

namespace pans {
namespace {

// Finalises MPI at exit if pans initialised it.
struct MpiSession {
  MpiSession() {
    int initialized = 0;
    PANS_MPI_CHECK(MPI_Initialized(&initialized));
    if (initialized) return;
    int provided = 0;
    PANS_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
    owned = true;
    PANS_CHECK(provided >= MPI_THREAD_FUNNELED, "MPI provides thread level ", provided,
               ", below MPI_THREAD_FUNNELED, which pans needs: its loader and watchdog threads run beside the "
               "thread that calls MPI");
  }
  ~MpiSession() {
    int finalized = 0;
    if (owned && MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized) MPI_Finalize();
  }
  bool owned = false;
};

}  // namespace

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, std::size_t(length));
}

MPI_Comm mpi_world_duplicate() {
  static MpiSession session;
  MPI_Comm world = MPI_COMM_NULL;
  PANS_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &world));
  PANS_MPI_CHECK(MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN));
  return world;
}

}  // namespace pans
