// The MPI backend: collectives on host memory over a duplicate of MPI_COMM_WORLD, each watched by a
// CollectiveWatchdog (MPI has no timeout of its own). Started all-reduces are MPI_Iallreduce on a
// second duplicate: MPI matches the collectives of a communicator in the order they are called, and
// a communicator of their own keeps them apart from the blocking collectives issued meanwhile
// (synchronized iABN's, during the backward whose gradients are being averaged).
#include <mpi.h>

#include <cstdio>
#include <limits>
#include <memory>

#include "dist/backends.h"
#include "dist/collective_watchdog.h"
#include "dist/mpi_check.h"
#include "dist/mpi_session.h"

namespace pans {
namespace {

MPI_Datatype float_datatype(DType dtype) { return dtype == DType::F64 ? MPI_DOUBLE : MPI_FLOAT; }

// MPI counts are int: a larger buffer would need several calls, and no buffer of pans comes near.
int mpi_count(std::size_t count, const char* what) {
  PANS_CHECK(count <= std::size_t(std::numeric_limits<int>::max()), what, ": ", count,
             " elements exceed MPI's int count");
  return int(count);
}

// MPI has no averaging reduction: the sum is divided on the host.
void divide(Tensor& buffer, int divisor) {
  const auto divide_all = [&](auto* values) {
    for (std::int64_t i = 0; i < buffer.numel(); ++i) values[i] /= divisor;
  };
  if (buffer.dtype() == DType::F64)
    divide_all(buffer.data<double>());
  else
    divide_all(buffer.data<float>());
}

// Frees a communicator in a destructor: a failure is only reported.
void free_communicator(MPI_Comm& comm) {
  const int status = MPI_Comm_free(&comm);
  if (status != MPI_SUCCESS) std::fprintf(stderr, "pans: MPI_Comm_free failed: %s\n", mpi_error_text(status).c_str());
}

class MpiCommunicator final : public Communicator {
 public:
  // Takes world and started (duplicates of MPI_COMM_WORLD) over.
  MpiCommunicator(const RankInfo& info, MPI_Comm world, MPI_Comm started, double timeout_seconds)
      : Communicator(info), world_(world), started_(started), watchdog_(timeout_seconds, describe()) {}
  ~MpiCommunicator() override {
    free_communicator(started_);
    free_communicator(world_);
  }

  CommBackend backend() const override { return CommBackend::Mpi; }
  Device device() const override { return Device::cpu(); }

  void all_reduce(Tensor& buffer, ReduceOp op) override {
    check_all_reduce(buffer);
    const CollectiveWatchdog::Watch watch(watchdog_, detail::concat("MPI all_reduce of ", buffer.describe("buffer")));
    PANS_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buffer.raw_data(), mpi_count(std::size_t(buffer.numel()), "all_reduce"),
                                 float_datatype(buffer.dtype()), MPI_SUM, world_));
    if (op == ReduceOp::Average) divide(buffer, world_size());
  }

  std::unique_ptr<PendingCollective> start_all_reduce(Tensor& buffer, ReduceOp op) override {
    check_all_reduce(buffer);
    MPI_Request request = MPI_REQUEST_NULL;
    PANS_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, buffer.raw_data(),
                                  mpi_count(std::size_t(buffer.numel()), "start_all_reduce"),
                                  float_datatype(buffer.dtype()), MPI_SUM, started_, &request));
    return std::make_unique<PendingAllReduce>(*this, buffer, op, request);
  }

  void all_gather(const Tensor& local, Tensor& gathered) override {
    check_all_gather(local, gathered);
    const CollectiveWatchdog::Watch watch(watchdog_, detail::concat("MPI all_gather of ", local.describe("local")));
    const int bytes = mpi_count(local.nbytes(), "all_gather");
    PANS_MPI_CHECK(MPI_Allgather(local.raw_data(), bytes, MPI_BYTE, gathered.raw_data(), bytes, MPI_BYTE, world_));
  }

  void broadcast(Tensor& buffer, int root) override {
    check_broadcast(buffer, root);
    const CollectiveWatchdog::Watch watch(
        watchdog_, detail::concat("MPI broadcast from rank ", root, " of ", buffer.describe("buffer")));
    PANS_MPI_CHECK(MPI_Bcast(buffer.raw_data(), mpi_count(buffer.nbytes(), "broadcast"), MPI_BYTE, root, world_));
  }

  void barrier() override {
    const CollectiveWatchdog::Watch watch(watchdog_, "MPI barrier");
    PANS_MPI_CHECK(MPI_Barrier(world_));
  }

 private:
  class PendingAllReduce final : public PendingCollective {
   public:
    PendingAllReduce(MpiCommunicator& owner, const Tensor& buffer, ReduceOp op, MPI_Request request)
        : owner_(owner), buffer_(buffer), op_(op), request_(request) {}
    ~PendingAllReduce() override { wait_reporting_failure(); }

    bool test() override {
      if (!done_) {
        int completed = 0;
        PANS_MPI_CHECK(MPI_Test(&request_, &completed, MPI_STATUS_IGNORE));
        if (completed) complete();
      }
      return done_;
    }

    void wait() override {
      if (done_) return;
      const CollectiveWatchdog::Watch watch(owner_.watchdog_,
                                            detail::concat("MPI started all_reduce of ", buffer_.describe("buffer")));
      PANS_MPI_CHECK(MPI_Wait(&request_, MPI_STATUS_IGNORE));
      complete();
    }

   private:
    void complete() {
      done_ = true;
      if (op_ == ReduceOp::Average) divide(buffer_, owner_.world_size());
    }

    MpiCommunicator& owner_;
    Tensor buffer_;  // shares the caller's memory, and keeps it alive while MPI writes into it
    ReduceOp op_;
    MPI_Request request_;
    bool done_ = false;
  };

  MPI_Comm world_;
  MPI_Comm started_;  // start_all_reduce's
  CollectiveWatchdog watchdog_;
};

// The rank as MPI sees it, checked against the launcher's variables.
RankInfo mpi_rank_info(const RankInfo& launcher_info, MPI_Comm world) {
  RankInfo info = launcher_info;
  PANS_MPI_CHECK(MPI_Comm_rank(world, &info.rank));
  PANS_MPI_CHECK(MPI_Comm_size(world, &info.world_size));
  // The local rank from MPI itself, portable across launchers: the rank among the processes that
  // share this node's memory.
  MPI_Comm node = MPI_COMM_NULL;
  PANS_MPI_CHECK(MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, info.rank, MPI_INFO_NULL, &node));
  PANS_MPI_CHECK(MPI_Comm_rank(node, &info.local_rank));
  PANS_MPI_CHECK(MPI_Comm_free(&node));
  if (launcher_info.launcher != Launcher::None)
    PANS_CHECK(info.world_size == launcher_info.world_size && info.rank == launcher_info.rank, "MPI sees rank ",
               info.rank, " of ", info.world_size, " but ", launcher_description(launcher_info.launcher), " says rank ",
               launcher_info.rank, " of ", launcher_info.world_size,
               ": this MPI was not started by that launcher (under srun, OpenMPI needs PMIx: srun --mpi=pmix, "
               "or run mpirun inside the allocation)");
  return info;
}

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(const RankInfo& launcher_info, double timeout_seconds) {
  MPI_Comm world = mpi_world_duplicate();
  MPI_Comm started = MPI_COMM_NULL;
  try {
    started = mpi_world_duplicate();
    return std::make_unique<MpiCommunicator>(mpi_rank_info(launcher_info, world), world, started, timeout_seconds);
  } catch (...) {
    // unchecked: the error being thrown is the one to report
    if (started != MPI_COMM_NULL) MPI_Comm_free(&started);
    MPI_Comm_free(&world);
    throw;
  }
}

}  // namespace pans
