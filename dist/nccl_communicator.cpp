// The NCCL backend: collectives on GPU memory. The communicator is non-blocking (config.blocking =
// 0): NCCL has no timeout, and a blocking call that waits for a dead peer never returns, so every
// call here returns at once and the host polls ncclCommGetAsyncError and the GPU against the
// deadline; on an error or past it, ncclCommAbort frees the GPU from the hung kernels and the
// failure is thrown with NCCL's own message.
//
// One communicator, one communication stream, one order. Every collective, blocking or started,
// runs on the same communicator and on one stream of its own (created cudaStreamNonBlocking: an
// ordinary stream synchronizes with the legacy default stream, where every pans kernel runs, and
// would serialize the communication with the backward again), in the order the host issues them.
// That order is the program's, the same on every rank (synchronized iABN's collectives and the
// gradient buckets in the backward's fixed order), so the ranks' NCCL kernels meet in the same
// sequence and cannot wait on each other crosswise. NCCL requires exactly this: operations of two
// communicators (or of two streams on one) in flight at once, without an order between them, may
// be scheduled differently on two ranks and deadlock. It is also how PyTorch's DDP with
// SyncBatchNorm runs: one process group, one NCCL stream.
//
// Ordering against the computation, on the device, without stopping the host: before each
// collective an event recorded on the default stream makes the communication stream wait for the
// buffer's producers (llm.c's pattern). A blocking collective then waits on the host for the
// communication stream (and so also for the started all-reduces before it, which is what their
// order on the stream means); a started one records an event that wait() polls and then makes the
// default stream wait for.
// Never run: no GPU was available when this was written (docs/distributed.md).
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <utility>

#include "config/environment.h"
#include "dist/backends.h"
#include "dist/poll_pacing.h"
#include "kernels/cuda/stream.h"
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
ncclRedOp_t reduction(ReduceOp op) { return op == ReduceOp::Average ? ncclAvg : ncclSum; }

ncclConfig_t non_blocking_config() {
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  return config;
}

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

// Makes the rank's GPU current (before ncclCommInitRank, which binds the current device) and returns it.
int bind_device(const RankInfo& info) {
  const int index = device_of(info);
  PANS_CUDA_CHECK(cudaSetDevice(index));
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
  const EnvironmentValues rendezvous = read_environment({"NCCL_COMM_ID", "MASTER_ADDR"});
  if (rendezvous.count("NCCL_COMM_ID") == 0) {
    const auto master = rendezvous.find("MASTER_ADDR");
    PANS_FAIL(
        "the NCCL backend outside mpirun needs NCCL_COMM_ID=host:port, the same on every rank, host being rank "
        "0's address and port a free one",
        master != rendezvous.end()
            ? detail::concat(" (torchrun's MASTER_PORT is taken by its own store: e.g. NCCL_COMM_ID=", master->second,
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
        device_index_(bind_device(info)),
        timeout_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds))) {
    const ncclUniqueId id = shared_unique_id(info);
    ncclConfig_t config = non_blocking_config();
    PANS_NCCL_CHECK(ncclCommInitRankConfig(&comm_, world_size(), id, rank(), &config));
    wait_until_ready("ncclCommInitRankConfig (waiting for every rank to join)");
  }

  ~NcclCommunicator() override { release(); }

  CommBackend backend() const override { return CommBackend::Nccl; }
  Device device() const override { return Device::cuda(device_index_); }

  void all_reduce(Tensor& buffer, ReduceOp op) override {
    check_all_reduce(buffer);
    run(detail::concat("NCCL all_reduce of ", buffer.describe("buffer")), [&] {
      return ncclAllReduce(buffer.raw_data(), buffer.raw_data(), std::size_t(buffer.numel()),
                           float_datatype(buffer.dtype()), reduction(op), comm_, stream_.get());
    });
  }

  std::unique_ptr<PendingCollective> start_all_reduce(Tensor& buffer, ReduceOp op) override {
    check_all_reduce(buffer);
    std::string what = detail::concat("NCCL started all_reduce of ", buffer.describe("buffer"));
    const CudaDeviceGuard device(device_index_);  // for the pending all-reduce's event too
    enqueue(what, [&] {
      return ncclAllReduce(buffer.raw_data(), buffer.raw_data(), std::size_t(buffer.numel()),
                           float_datatype(buffer.dtype()), reduction(op), comm_, stream_.get());
    });
    return std::make_unique<PendingAllReduce>(*this, buffer, std::move(what));
  }

  void all_gather(const Tensor& local, Tensor& gathered) override {
    check_all_gather(local, gathered);
    run(detail::concat("NCCL all_gather of ", local.describe("local")), [&] {
      // counts in elements of ncclUint8: any dtype travels as bytes
      return ncclAllGather(local.raw_data(), gathered.raw_data(), local.nbytes(), ncclUint8, comm_, stream_.get());
    });
  }

  void broadcast(Tensor& buffer, int root) override {
    check_broadcast(buffer, root);
    run(detail::concat("NCCL broadcast from rank ", root, " of ", buffer.describe("buffer")), [&] {
      return ncclBroadcast(buffer.raw_data(), buffer.raw_data(), buffer.nbytes(), ncclUint8, root, comm_,
                           stream_.get());
    });
  }

  // NCCL has no barrier: a one-element all-reduce, completed on every rank, is one.
  void barrier() override {
    Tensor token = Tensor::zeros({1}, DType::F32, device());
    all_reduce(token, ReduceOp::Sum);
  }

 private:
  // An all-reduce enqueued on the communication stream, followed there by the event done_.
  class PendingAllReduce final : public PendingCollective {
   public:
    PendingAllReduce(NcclCommunicator& owner, const Tensor& buffer, std::string what)
        : owner_(owner), buffer_(buffer), what_(std::move(what)) {
      done_.record(owner_.stream_.get());
    }
    ~PendingAllReduce() override { wait_reporting_failure(); }

    bool test() override {
      if (!completed_) completed_ = owner_.completed(what_, [&] { return cudaEventQuery(done_.get()); });
      return completed_;
    }

    void wait() override {
      if (completed_) return;
      const CudaDeviceGuard device(owner_.device_index_);
      owner_.wait_for(what_, [&] { return cudaEventQuery(done_.get()); });
      // The host has seen the all-reduce complete, so what it enqueues from now on follows it
      // anyway; this makes the default stream's dependency on it explicit on the device as well.
      done_.block(cudaStreamLegacy);
      completed_ = true;
    }

   private:
    NcclCommunicator& owner_;
    Tensor buffer_;  // shares the caller's memory, and keeps it allocated while NCCL writes into it
    std::string what_;
    cuda::Event done_;
    bool completed_ = false;
  };

  void check_not_aborted(const std::string& what) const {
    PANS_CHECK(comm_ != nullptr, what, ": the NCCL communicator was aborted by an earlier failure");
  }

  // Issues a collective on the communication stream, after the work enqueued so far on the default
  // stream (its buffers' producers); returns once NCCL has enqueued it, not completed it.
  template <class Call>
  void enqueue(const std::string& what, Call call) {
    check_not_aborted(what);
    const CudaDeviceGuard device(device_index_);
    produced_.record(cudaStreamLegacy);
    produced_.block(stream_.get());
    const ncclResult_t result = call();
    if (result != ncclSuccess && result != ncclInProgress) fail(what, result);
    wait_until_ready(what);
  }

  // A blocking collective: enqueued, then waited for on the host within the deadline. The host
  // enqueues the collective's consumers only afterwards, so they follow it without an event.
  template <class Call>
  void run(const std::string& what, Call call) {
    enqueue(what, call);
    wait_for(what, [&] { return cudaStreamQuery(stream_.get()); });
  }

  // The communicator's asynchronous state once it is not ncclInProgress, or ncclInProgress at the
  // deadline.
  static ncclResult_t poll_async_state(ncclComm_t comm, Clock::time_point deadline) {
    const PollPacer pacer;
    for (;;) {
      ncclResult_t state = ncclSuccess;
      const ncclResult_t queried = ncclCommGetAsyncError(comm, &state);
      if (queried != ncclSuccess) return queried;
      if (state != ncclInProgress || Clock::now() >= deadline) return state;
      pacer.pause();
    }
  }

  void wait_until_ready(const std::string& what) {
    const ncclResult_t state = poll_async_state(comm_, Clock::now() + timeout_);
    if (state != ncclSuccess) fail(what, state);
  }

  // Whether `query` (cudaStreamQuery or cudaEventQuery) finds the GPU work done. A CUDA error, or an
  // asynchronous error of the communicator (a peer's failure shows there), aborts and throws.
  template <class Query>
  bool completed(const std::string& what, Query query) {
    check_not_aborted(what);
    const cudaError_t status = query();
    if (status == cudaSuccess) return true;
    if (status != cudaErrorNotReady) {
      abort_communicator();
      PANS_FAIL(describe(), ": ", what, ": waiting for the GPU failed: ", cudaGetErrorString(status));
    }
    ncclResult_t state = ncclSuccess;
    PANS_NCCL_CHECK(ncclCommGetAsyncError(comm_, &state));
    if (state != ncclSuccess && state != ncclInProgress) fail(what, state);
    return false;
  }

  // Polls completed() until it holds, failing past the deadline.
  template <class Query>
  void wait_for(const std::string& what, Query query) {
    const Clock::time_point deadline = Clock::now() + timeout_;
    const PollPacer pacer;
    while (!completed(what, query)) {
      if (Clock::now() >= deadline) fail(what, ncclInProgress);
      pacer.pause();
    }
  }

  [[noreturn]] void fail(const std::string& what, ncclResult_t state) {
    const std::string detail = ncclGetLastError(nullptr);  // NCCL ignores the communicator argument
    abort_communicator();
    if (state == ncclInProgress)
      PANS_FAIL(describe(), ": ", what, " did not complete within ", std::chrono::duration<double>(timeout_).count(),
                " s (PANS_DIST_TIMEOUT): another rank died, hangs or called a different collective; the NCCL "
                "communicator was aborted");
    PANS_FAIL(describe(), ": ", what, " failed: ", ncclGetErrorString(state), " (", detail,
              "); the NCCL communicator was aborted");
  }

  // Only logs its own failures: it runs while another failure is being reported.
  void abort_communicator() {
    if (comm_ == nullptr) return;
    const ncclResult_t aborted = ncclCommAbort(comm_);
    if (aborted != ncclSuccess) std::fprintf(stderr, "pans: ncclCommAbort failed: %s\n", ncclGetErrorString(aborted));
    comm_ = nullptr;
  }

  // Finalize flushes the pending operations; if it fails or hangs, abort instead of blocking in destroy.
  void release() {
    if (comm_ == nullptr) return;
    const ncclResult_t flushed = ncclCommFinalize(comm_);
    const bool finalized = (flushed == ncclSuccess || flushed == ncclInProgress) &&
                           poll_async_state(comm_, Clock::now() + timeout_) == ncclSuccess;
    const ncclResult_t released = finalized ? ncclCommDestroy(comm_) : ncclCommAbort(comm_);
    if (released != ncclSuccess)
      std::fprintf(stderr, "pans: releasing the NCCL communicator failed: %s\n", ncclGetErrorString(released));
    comm_ = nullptr;
  }

  int device_index_;
  Clock::duration timeout_;
  cuda::Stream stream_;   // every collective's, on device_index_ (bind_device made it current)
  cuda::Event produced_;  // recorded on the default stream before each collective
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(const RankInfo& info, double timeout_seconds) {
  return std::make_unique<NcclCommunicator>(info, timeout_seconds);
}

}  // namespace pans
