// Collectives between the ranks of a data-parallel job, behind one interface with three backends:
//   CommBackend::Single  world size 1, no dependency: every collective is the identity;
//   CommBackend::Mpi     MPI on host memory (cpu tensors; Debian's OpenMPI is not CUDA-aware);
//                        built when CMake finds MPI;
//   CommBackend::Nccl    NCCL on GPU memory (cuda tensors of device cuda:local_rank); built with
//                        PANS_CUDA when CMake finds NCCL.
// Asking for a backend this build lacks is an error that says how to get it.
//
// Every collective but start_all_reduce is blocking: it returns when `buffer` holds the result, and
// every rank must call the same collectives in the same order with the same sizes. start_all_reduce
// returns at once with a PendingCollective, so the caller may go on computing (and issuing
// blocking collectives) while it runs. The ranks must issue the started and the blocking
// collectives in one and the same order: NCCL runs all of them on one communicator and one stream
// in that order (dist/nccl_communicator.cpp says why), and a blocking collective then also waits
// for the started ones issued before it; MPI runs the started ones on a duplicate communicator of
// their own, where MPI's progress rules let them overlap the blocking ones.
// A collective that does not complete within the timeout (make_communicator's; the apps pass
// Implementations::collective_timeout_seconds, PANS_DIST_TIMEOUT, default 600)
// because a rank died or hangs fails with a message naming the collective and the rank: MPI ends
// the process (collective_watchdog.h says why), NCCL aborts its communicator and throws
// pans::Error. The launcher then ends the others. For a started all-reduce the timeout runs from
// PendingCollective::wait().
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "dist/launch_environment.h"
#include "tensor/tensor.h"

namespace pans {

enum class CommBackend { Single, Mpi, Nccl };
enum class ReduceOp { Sum, Average };  // Average: the sum divided by the world size

// "single", "mpi", "nccl"; throws pans::Error naming the text otherwise.
CommBackend parse_comm_backend(const std::string& text);
std::string comm_backend_name(CommBackend backend);

// The backend a --dist flag asks for. "auto": single for a process started without a launcher;
// under one, NCCL when the ranks run on GPUs (the --device flag given, else whether a GPU is
// usable), MPI on the CPU otherwise.
CommBackend comm_backend_for_flags(const std::string& dist, const std::optional<std::string>& device);
bool comm_backend_available(CommBackend backend);

// An all-reduce started by Communicator::start_all_reduce. Its buffer must be neither read nor
// written until test() has returned true or wait() has returned; it then holds the result. It must
// not outlive its communicator. Destroying it unfinished waits for it first, as wait() does (MPI and
// NCCL cannot cancel a collective, and the other ranks take part in it anyway), reporting a failure
// on stderr instead of throwing.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  PendingCollective(const PendingCollective&) = delete;
  PendingCollective& operator=(const PendingCollective&) = delete;

  // Whether it has completed, without blocking. With MPI it also makes progress: MPI advances a
  // nonblocking collective only inside MPI calls, so callers test while they compute.
  virtual bool test() = 0;
  // Blocks until it has completed, within the timeout; later work on the device follows it.
  virtual void wait() = 0;

 protected:
  PendingCollective() = default;
  // For the backends' destructors: wait(), reporting a failure on stderr (destructors do not throw).
  void wait_reporting_failure() noexcept;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  virtual CommBackend backend() const = 0;
  const RankInfo& rank_info() const { return info_; }
  int rank() const { return info_.rank; }
  int world_size() const { return info_.world_size; }
  int local_rank() const { return info_.local_rank; }
  // Where the collectives' tensors must live: cpu, or cuda:local_rank for NCCL.
  virtual Device device() const = 0;
  // "rank 1 of 4 (local 1) on host-a": how messages name this process.
  std::string describe() const;

  // buffer (float32 or float64, contiguous, on device()) <- its sum or average over the ranks.
  virtual void all_reduce(Tensor& buffer, ReduceOp op) = 0;
  // The same, started: buffer (the same conditions) holds the result once the returned collective
  // has completed. With NCCL it starts after the work already enqueued on the default stream (the
  // buffer's producers) and the collectives issued before it, and runs beside the kernels enqueued
  // later.
  virtual std::unique_ptr<PendingCollective> start_all_reduce(Tensor& buffer, ReduceOp op) = 0;
  // gathered {world_size * n} (=): every rank's contiguous `local` of n elements (any dtype, the same
  // n and dtype on every rank), in rank order.
  virtual void all_gather(const Tensor& local, Tensor& gathered) = 0;
  // buffer (any dtype) <- root's buffer.
  virtual void broadcast(Tensor& buffer, int root) = 0;
  virtual void barrier() = 0;

 protected:
  explicit Communicator(const RankInfo& info) : info_(info) {}
  // Argument checks shared by the backends.
  void check_all_reduce(const Tensor& buffer) const;
  void check_all_gather(const Tensor& local, const Tensor& gathered) const;
  void check_broadcast(const Tensor& buffer, int root) const;

 private:
  RankInfo info_;
};

// Rank 0 of 1 whatever the environment says: for a process that trains alone by design.
std::unique_ptr<Communicator> make_single_process_communicator();

// A communicator of `backend` for this process, its rank from the launcher's environment
// (launch_environment.h). Single needs world size 1. MPI checks that MPI's world agrees with the
// launcher's variables (a plain srun of an OpenMPI without PMI support starts every process as a
// rank 0 of 1). NCCL shares its unique id by MPI_Bcast under mpirun when built with MPI, otherwise
// through NCCL_COMM_ID=host:port, which every rank must set alike.
std::unique_ptr<Communicator> make_communicator(CommBackend backend, double timeout_seconds);

}  // namespace pans
