// The NCCL backend: collectives on GPU memory. The communicator is non-blocking (config.blocking =
// 0): NCCL has no timeout, and a blocking call that waits for a dead peer never returns, so every
// call here returns at once and the host polls ncclCommGetAsyncError and the stream against the
// deadline; on an error or past it, ncclCommAbort frees the GPU from the hung kernels and the
// failure is thrown with NCCL's own message. The collectives run on the legacy default stream,
// where every pans kernel runs, so they follow the work that produced their buffers with no event.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "dist/backends.h"
#include "tensor/cuda_check.h"
#include "tensor/cuda_runtime.h"
#if PANS_WITH_MPI
#include "dist/mpi_check.h"
#include "dist/mpi_session.h"
#endif

namespace pans {
namespace {

// ncclInProgress is a non-blocking call's normal answer: the operation continues in the background.
#define PANS_NCCL_CHECK(call)                                                                                    \
  do {                                                                                                           \
    const ncclResult_t pans_nccl_result = (call);                                                                \
    if (pans_nccl_result != ncclSuccess && pans_nccl_result != ncclInProgress)                                   \
      PANS_FAIL(#call, " failed: ", ncclGetErrorString(pans_nccl_result), " (", ncclGetLastError(nullptr), ")"); \
  } while (0)

using Clock = std::chrono::steady_clock;

ncclDataType_t float_datatype(DType dtype) { return dtype == DType::F64 ? ncclFloat64 : ncclFloat32; }

// One process per GPU: the local rank picks the device, unless the launcher already gave each
// process a single visible GPU (srun --gpus-per-task, CUDA_VISIBLE_DEVICES per rank).
int device_of(const RankInfo& info) {
  const int count = cuda_device_count();
  PANS_CHECK(count > 0, "the NCCL backend needs a GPU: ", cuda_unavailable_reason());
  const int index = count == 1 ? 0 : info.local_rank;
  PANS_CHECK(index < count, "local rank ", info.local_rank, " has no GPU of its own: this node shows ", count,
             " GPUs; start at most one rank per GPU");
  return index;
}

ncclUniqueId shared_unique_id(const RankInfo& info) {
  ncclUniqueId id{};
  if (info.world_size == 1) {  // nobody to share it with
    PANS_NCCL_CHECK(ncclGetUniqueId(&id));
    return id;
  }
#if PANS_WITH_MPI
  if (info.launcher == Launcher::OpenMpi) {
    MPI_Comm world = mpi_world_duplicate();
    if (info.rank == 0) PANS_NCCL_CHECK(ncclGetUniqueId(&id));
    const int status = MPI_Bcast(&id, int(sizeof id), MPI_BYTE, 0, world);
    PANS_MPI_CHECK(MPI_Comm_free(&world));
    PANS_CHECK(status == MPI_SUCCESS, "MPI_Bcast of the NCCL unique id failed: ", mpi_error_text(status));
    return id;
  }
#endif
  // With NCCL_COMM_ID=host:port, ncclGetUniqueId derives the same id on every rank from the address,
  // and rank 0's ncclCommInitRank listens there: no exchange is needed.
  if (std::getenv("NCCL_COMM_ID") == nullptr) {
    const char* master = std::getenv("MASTER_ADDR");
    PANS_FAIL(
        "the NCCL backend outside mpirun needs NCCL_COMM_ID=host:port, the same on every rank, host being rank "
        "0's address and port a free one",
        master ? detail::concat(" (torchrun's MASTER_PORT is taken by its own store: e.g. NCCL_COMM_ID=", master,
                                ":<MASTER_PORT + 1>)")
               : std::string());
  }
  PANS_NCCL_CHECK(ncclGetUniqueId(&id));
  return id;
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(const RankInfo& info, double timeout_seconds)
      : Communicator(info),
        device_index_(device_of(info)),
        timeout_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds))) {
    PANS_CUDA_CHECK(cudaSetDevice(device_index_));  // before ncclCommInitRank, which binds the current device
    const ncclUniqueId id = shared_unique_id(info);
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    PANS_NCCL_CHECK(ncclCommInitRankConfig(&comm_, world_size(), id, rank(), &config));
    wait_until_ready("ncclCommInitRankConfig (waiting for every rank to join)");
  }

  ~NcclCommunicator() override {
    if (comm_ == nullptr) return;
    // Finalize flushes the pending operations; if it fails or hangs, abort instead of blocking in destroy.
    const ncclResult_t flushed = ncclCommFinalize(comm_);
    const bool finalized = (flushed == ncclSuccess || flushed == ncclInProgress) &&
                           poll_async_state(Clock::now() + timeout_) == ncclSuccess;
    const ncclResult_t released = finalized ? ncclCommDestroy(comm_) : ncclCommAbort(comm_);
    if (released != ncclSuccess)
      std::fprintf(stderr, "pans: releasing the NCCL communicator failed: %s\n", ncclGetErrorString(released));
  }

  CommBackend backend() const override { return CommBackend::Nccl; }
  Device device() const override { return Device::cuda(device_index_); }

  void all_reduce(Tensor& buffer, ReduceOp op) override {
    check_all_reduce(buffer);
    const std::string what = detail::concat("NCCL all_reduce of ", buffer.describe("buffer"));
    enqueue(what, [&] {
      return ncclAllReduce(buffer.raw_data(), buffer.raw_data(), std::size_t(buffer.numel()),
                           float_datatype(buffer.dtype()), op == ReduceOp::Average ? ncclAvg : ncclSum, comm_,
                           cudaStreamLegacy);
    });
  }

  void all_gather(const Tensor& local, Tensor& gathered) override {
    check_all_gather(local, gathered);
    const std::string what = detail::concat("NCCL all_gather of ", local.describe("local"));
    enqueue(what, [&] {  // counts in elements of ncclUint8: any dtype travels as bytes
      return ncclAllGather(local.raw_data(), gathered.raw_data(), local.nbytes(), ncclUint8, comm_, cudaStreamLegacy);
    });
  }

  void broadcast(Tensor& buffer, int root) override {
    check_broadcast(buffer, root);
    const std::string what = detail::concat("NCCL broadcast from rank ", root, " of ", buffer.describe("buffer"));
    enqueue(what, [&] {
      return ncclBroadcast(buffer.raw_data(), buffer.raw_data(), buffer.nbytes(), ncclUint8, root, comm_,
                           cudaStreamLegacy);
    });
  }

  // NCCL has no barrier: a one-element all-reduce, completed on every rank, is one.
  void barrier() override {
    Tensor token = Tensor::zeros({1}, DType::F32, device());
    all_reduce(token, ReduceOp::Sum);
  }

 private:
  // Enqueues a collective and waits until it has completed on the stream, within the deadline.
  template <class Call>
  void enqueue(const std::string& what, Call call) {
    PANS_CHECK(comm_ != nullptr, what, ": the NCCL communicator was aborted by an earlier failure");
    const CudaDeviceGuard device(device_index_);
    const ncclResult_t result = call();
    if (result != ncclSuccess && result != ncclInProgress) fail(what, result);
    wait_until_ready(what);
    wait_for_stream(what, Clock::now() + timeout_);
  }

  // The communicator's asynchronous state once it is not ncclInProgress, or ncclInProgress at the deadline.
  ncclResult_t poll_async_state(Clock::time_point deadline) const {
    for (;;) {
      ncclResult_t state = ncclSuccess;
      const ncclResult_t queried = ncclCommGetAsyncError(comm_, &state);
      if (queried != ncclSuccess) return queried;
      if (state != ncclInProgress || Clock::now() >= deadline) return state;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  void wait_until_ready(const std::string& what) {
    const ncclResult_t state = poll_async_state(Clock::now() + timeout_);
    if (state != ncclSuccess) fail(what, state);
  }

  void wait_for_stream(const std::string& what, Clock::time_point deadline) {
    for (;;) {
      const cudaError_t query = cudaStreamQuery(cudaStreamLegacy);
      if (query == cudaSuccess) return;
      if (query != cudaErrorNotReady) {
        abort_communicator();
        PANS_FAIL(describe(), ": ", what, ": cudaStreamQuery failed: ", cudaGetErrorString(query));
      }
      ncclResult_t state = ncclSuccess;
      PANS_NCCL_CHECK(ncclCommGetAsyncError(comm_, &state));
      if (state != ncclSuccess && state != ncclInProgress) fail(what, state);
      if (Clock::now() >= deadline) fail(what, ncclInProgress);
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  [[noreturn]] void fail(const std::string& what, ncclResult_t state) {
    const std::string detail = ncclGetLastError(comm_);
    abort_communicator();
    if (state == ncclInProgress)
      PANS_FAIL(describe(), ": ", what, " did not complete within ", std::chrono::duration<double>(timeout_).count(),
                " s (PANS_DIST_TIMEOUT): another rank died, hangs or called a different collective; the NCCL "
                "communicator was aborted");
    PANS_FAIL(describe(), ": ", what, " failed: ", ncclGetErrorString(state), " (", detail,
              "); the NCCL communicator was aborted");
  }

  // Only logs its own failure: it runs while another failure is being reported.
  void abort_communicator() {
    if (comm_ == nullptr) return;
    const ncclResult_t aborted = ncclCommAbort(comm_);
    if (aborted != ncclSuccess) std::fprintf(stderr, "pans: ncclCommAbort failed: %s\n", ncclGetErrorString(aborted));
    comm_ = nullptr;
  }

  int device_index_;
  Clock::duration timeout_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(const RankInfo& info, double timeout_seconds) {
  return std::make_unique<NcclCommunicator>(info, timeout_seconds);
}

}  // namespace pans
