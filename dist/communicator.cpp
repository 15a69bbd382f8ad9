#include "dist/communicator.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <exception>

#include "dist/backends.h"
#include "tensor/cuda_runtime.h"

namespace pans {
namespace {

std::string host_name() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "unknown host";
  return name.data();
}

// World size 1: the all-reduce is complete as soon as it starts.
class CompletedCollective final : public PendingCollective {
 public:
  bool test() override { return true; }
  void wait() override {}
};

class SingleCommunicator final : public Communicator {
 public:
  explicit SingleCommunicator(const RankInfo& info) : Communicator(info) {}
  CommBackend backend() const override { return CommBackend::Single; }
  Device device() const override { return Device::cpu(); }
  void all_reduce(Tensor& buffer, ReduceOp) override { check_all_reduce(buffer); }
  std::unique_ptr<PendingCollective> start_all_reduce(Tensor& buffer, ReduceOp) override {
    check_all_reduce(buffer);
    return std::make_unique<CompletedCollective>();
  }
  void all_gather(const Tensor& local, Tensor& gathered) override {
    check_all_gather(local, gathered);
    gathered.copy_from(local);
  }
  void broadcast(Tensor& buffer, int root) override { check_broadcast(buffer, root); }
  void barrier() override {}
};

}  // namespace

CommBackend parse_comm_backend(const std::string& text) {
  if (text == "single") return CommBackend::Single;
  if (text == "mpi") return CommBackend::Mpi;
  if (text == "nccl") return CommBackend::Nccl;
  PANS_FAIL("unknown communication backend \"", text, "\": expected single, mpi or nccl");
}

CommBackend comm_backend_for_flags(const std::string& dist, const std::optional<std::string>& device) {
  if (dist != "auto") return parse_comm_backend(dist);
  if (rank_info_from_environment(launch_environment()).world_size == 1) return CommBackend::Single;
  const bool on_gpu = device ? parse_device(*device).is_cuda() : cuda_device_count() > 0;
  return on_gpu ? CommBackend::Nccl : CommBackend::Mpi;
}

std::string comm_backend_name(CommBackend backend) {
  switch (backend) {
    case CommBackend::Mpi:
      return "mpi";
    case CommBackend::Nccl:
      return "nccl";
    case CommBackend::Single:
      break;
  }
  return "single";
}

bool comm_backend_available(CommBackend backend) {
  switch (backend) {
    case CommBackend::Mpi:
      return PANS_WITH_MPI;
    case CommBackend::Nccl:
      return PANS_WITH_NCCL;
    case CommBackend::Single:
      break;
  }
  return true;
}

void PendingCollective::wait_reporting_failure() noexcept {
  try {
    wait();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "pans: an unfinished started all-reduce failed: %s\n", error.what());
  }
}

std::string Communicator::describe() const {
  return detail::concat("rank ", rank(), " of ", world_size(), " (local ", local_rank(), ") on ", host_name());
}

void Communicator::check_all_reduce(const Tensor& buffer) const {
  PANS_CHECK(buffer.defined() && buffer.is_contiguous() && buffer.device() == device() &&
                 (buffer.dtype() == DType::F32 || buffer.dtype() == DType::F64),
             comm_backend_name(backend()), " all_reduce: ", buffer.describe("buffer"),
             " must be a contiguous float32 or float64 tensor on ", device().str());
}

void Communicator::check_all_gather(const Tensor& local, const Tensor& gathered) const {
  PANS_CHECK(local.defined() && gathered.defined() && local.is_contiguous() && gathered.is_contiguous() &&
                 local.device() == device() && gathered.device() == device() && local.dtype() == gathered.dtype() &&
                 gathered.numel() == local.numel() * world_size(),
             comm_backend_name(backend()), " all_gather: ", local.describe("local"), " and ",
             gathered.describe("gathered"), " must be contiguous, of one dtype, on ", device().str(),
             ", gathered holding world size ", world_size(), " x local's elements");
}

void Communicator::check_broadcast(const Tensor& buffer, int root) const {
  PANS_CHECK(
      buffer.defined() && buffer.is_contiguous() && buffer.device() == device() && root >= 0 && root < world_size(),
      comm_backend_name(backend()), " broadcast from rank ", root, ": ", buffer.describe("buffer"),
      " must be contiguous on ", device().str(), " and the root a rank below ", world_size());
}

std::unique_ptr<Communicator> make_single_communicator(const RankInfo& info) {
  return std::make_unique<SingleCommunicator>(info);
}

std::unique_ptr<Communicator> make_single_process_communicator() { return make_single_communicator(RankInfo{}); }

std::unique_ptr<Communicator> make_communicator(CommBackend backend, double timeout_seconds) {
  const RankInfo info = rank_info_from_environment(launch_environment());
  switch (backend) {
    case CommBackend::Single:
      PANS_CHECK(info.world_size == 1, "the single-process backend cannot serve ", info.world_size,
                 " ranks started by ", launcher_description(info.launcher), ": use --dist mpi or nccl");
      return make_single_communicator(info);
    case CommBackend::Mpi:
#if PANS_WITH_MPI
      return make_mpi_communicator(info, timeout_seconds);
#else
      PANS_FAIL(
          "this pans was built without MPI: install libopenmpi-dev openmpi-bin (tools/setup.sh does) and "
          "configure again");
#endif
    case CommBackend::Nccl:
#if PANS_WITH_NCCL
      return make_nccl_communicator(info, timeout_seconds);
#else
      PANS_FAIL(
          "this pans was built without NCCL: it needs a CUDA build (PANS_CUDA=ON) and nccl.h with libnccl "
          "(under the CUDA toolkit, or in NCCL_ROOT)");
#endif
  }
  PANS_FAIL("make_communicator: unknown backend");
}

}  // namespace pans
