// One rank of a 2-rank MPI job fails in the middle of a collective, as `test_dist_failure killed ...`
// (rank 1 sends itself SIGKILL) or `test_dist_failure hung ...` (rank 1 stops calling collectives);
// rank 0 waits in an all_reduce: a blocking one (`... blocking`), or one started and then waited for
// (`... started`), as the gradient buckets are. tests/test_dist_failure.cmake runs it under mpirun
// and requires the whole job to end non-zero within the timeout. Reaching the end is the failure.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include "config/environment.h"
#include "dist/communicator.h"

using namespace pans;

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "killed") != 0 && std::strcmp(argv[1], "hung") != 0) ||
      (std::strcmp(argv[2], "blocking") != 0 && std::strcmp(argv[2], "started") != 0)) {
    std::fprintf(stderr, "usage: test_dist_failure killed|hung blocking|started (under mpirun -np 2)\n");
    return 2;
  }
  try {
    const std::unique_ptr<Communicator> communicator =
        make_communicator(CommBackend::Mpi, implementations_from_environment().collective_timeout_seconds);
    Tensor values = Tensor::zeros({16});
    communicator->all_reduce(values, ReduceOp::Sum);  // both ranks alive
    if (communicator->rank() == 1) {
      if (std::strcmp(argv[1], "killed") == 0) std::raise(SIGKILL);
      std::this_thread::sleep_for(std::chrono::hours(1));
    }
    // Rank 0 waits here for ever without the timeout.
    if (std::strcmp(argv[2], "started") == 0)
      communicator->start_all_reduce(values, ReduceOp::Sum)->wait();
    else
      communicator->all_reduce(values, ReduceOp::Sum);
    std::fprintf(stderr, "test_dist_failure: rank %d finished a collective its peer never joined\n",
                 communicator->rank());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "test_dist_failure: %s\n", error.what());
    return 1;
  }
}
