// dist/ without a second process: the launcher variables, the single-process backend, the start-up
// check, the pacing of collective polls, gradient buckets (overlapped with PspNet's backward,
// through a recording communicator) and the collective watchdog. The multi-rank behaviour runs under
// mpirun in tests/test_dist_mpi.cpp and test_dist_failure.cpp.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "dist/agreement.h"
#include "dist/collective_watchdog.h"
#include "dist/communicator.h"
#include "dist/gradient_averager.h"
#include "dist/poll_pacing.h"
#include "dist/synchronized_batch_statistics.h"
#include "kernels/random.h"
#include "models/pspnet.h"
#include "tensor/cuda_runtime.h"
#include "tests/tiny_model.h"

using namespace pans;

TEST_CASE("launch environment: no launcher is rank 0 of 1") {
  const RankInfo info = rank_info_from_environment({});
  CHECK(info.rank == 0);
  CHECK(info.world_size == 1);
  CHECK(info.local_rank == 0);
  CHECK(info.launcher == Launcher::None);
}

TEST_CASE("launch environment: mpirun, srun and torchrun variables") {
  struct Case {
    EnvironmentValues environment;
    RankInfo expected;
  };
  const Case cases[] = {
      {{{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_SIZE", "8"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}},
       {3, 8, 1, Launcher::OpenMpi}},
      {{{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "16"}, {"SLURM_LOCALID", "5"}}, {5, 16, 5, Launcher::Slurm}},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}}, {0, 2, 0, Launcher::Torchrun}},
      // mpirun inside an sbatch script: the batch step's Slurm variables are present too.
      {{{"SLURM_PROCID", "0"},
        {"SLURM_NTASKS", "4"},
        {"SLURM_LOCALID", "0"},
        {"OMPI_COMM_WORLD_RANK", "2"},
        {"OMPI_COMM_WORLD_SIZE", "4"},
        {"OMPI_COMM_WORLD_LOCAL_RANK", "0"}},
       {2, 4, 0, Launcher::OpenMpi}},
      // A plain sbatch script without --ntasks: one process.
      {{{"SLURM_PROCID", "0"}, {"SLURM_LOCALID", "0"}}, {0, 1, 0, Launcher::None}},
  };
  for (const Case& c : cases) {
    const RankInfo info = rank_info_from_environment(c.environment);
    INFO(launcher_description(c.expected.launcher));
    CHECK(info.rank == c.expected.rank);
    CHECK(info.world_size == c.expected.world_size);
    CHECK(info.local_rank == c.expected.local_rank);
    CHECK(info.launcher == c.expected.launcher);
  }
}

TEST_CASE("launch environment: partial or invalid variables are errors naming the variable") {
  CHECK_THROWS_WITH_AS(rank_info_from_environment({{"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}}),
                       doctest::Contains("RANK is not"), Error);
  CHECK_THROWS_WITH_AS(rank_info_from_environment({{"SLURM_NTASKS", "2"}, {"SLURM_PROCID", "1"}}),
                       doctest::Contains("SLURM_LOCALID is not"), Error);
  CHECK_THROWS_WITH_AS(rank_info_from_environment({{"RANK", "x1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}}),
                       doctest::Contains("RANK=\"x1\" is not a non-negative integer"), Error);
  CHECK_THROWS_WITH_AS(rank_info_from_environment({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}}),
                       doctest::Contains("RANK=2 is not below WORLD_SIZE=2"), Error);
  CHECK_THROWS_WITH_AS(
      rank_info_from_environment(
          {{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "0"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "0"}}),
      doctest::Contains("at least one rank"), Error);
}

TEST_CASE("communicator: backend names, and the single-process backend's collectives") {
  CHECK(parse_comm_backend("mpi") == CommBackend::Mpi);
  CHECK(comm_backend_name(parse_comm_backend("nccl")) == "nccl");
  CHECK_THROWS_WITH_AS(parse_comm_backend("gloo"), doctest::Contains("expected single, mpi or nccl"), Error);

  const std::unique_ptr<Communicator> single = make_communicator(CommBackend::Single, 10.0);
  CHECK(single->world_size() == 1);
  Tensor values = Tensor::from_vector(std::vector<float>{1.5f, -2.0f}, {2});
  single->all_reduce(values, ReduceOp::Average);
  CHECK(values.to_vector<float>() == std::vector<float>{1.5f, -2.0f});
  Tensor gathered = Tensor::empty({2});
  single->all_gather(values, gathered);
  CHECK(gathered.to_vector<float>() == std::vector<float>{1.5f, -2.0f});
  single->broadcast(values, 0);
  single->barrier();
  CHECK_THROWS_WITH_AS(single->broadcast(values, 1), doctest::Contains("root a rank below 1"), Error);
  Tensor integers = Tensor::zeros({2}, DType::I32);
  CHECK_THROWS_WITH_AS(single->all_reduce(integers, ReduceOp::Sum), doctest::Contains("float32 or float64"), Error);
  check_ranks_agree(*single, configuration_hash("recipe"));
}

TEST_CASE("communicator: a backend this build lacks is a clear error") {
  for (const CommBackend backend : {CommBackend::Mpi, CommBackend::Nccl})
    if (!comm_backend_available(backend))
      CHECK_THROWS_WITH_AS(make_communicator(backend, 10.0), doctest::Contains("was built without"), Error);
}

// Runs where NCCL is built: without a GPU it checks the error, with one (tools/gpu_suite.sh) the
// collectives of a one-rank NCCL communicator against the single-process backend's.
TEST_CASE("communicator: the NCCL backend at world size 1") {
  if (!comm_backend_available(CommBackend::Nccl)) return;
  if (cuda_device_count() == 0) {
    CHECK_THROWS_WITH_AS(make_communicator(CommBackend::Nccl, 10.0), doctest::Contains("the NCCL backend needs a GPU"),
                         Error);
    return;
  }
  const std::unique_ptr<Communicator> nccl = make_communicator(CommBackend::Nccl, 10.0);
  REQUIRE(nccl->device().is_cuda());
  const Tensor host = Tensor::from_vector(std::vector<double>{0.25, -3.0, 7.5}, {3});
  Tensor values = host.to(nccl->device());
  nccl->all_reduce(values, ReduceOp::Sum);
  nccl->all_reduce(values, ReduceOp::Average);
  CHECK(values.to(Device::cpu()).to_vector<double>() == host.to_vector<double>());
  Tensor gathered = Tensor::empty({3}, DType::F64, nccl->device());
  nccl->all_gather(values, gathered);
  CHECK(gathered.to(Device::cpu()).to_vector<double>() == host.to_vector<double>());
  nccl->broadcast(values, 0);
  nccl->barrier();
  check_ranks_agree(*nccl, configuration_hash("recipe"));
  CHECK(values.to(Device::cpu()).to_vector<double>() == host.to_vector<double>());
}

TEST_CASE("configuration hash: FNV-1a 64") {
  CHECK(configuration_hash("") == 0xcbf29ce484222325ull);
  CHECK(configuration_hash("a") == 0xaf63dc4c8601ec8cull);
}

TEST_CASE("collective polling: spins first, then sleeps 100 us, then 1 ms") {
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  CHECK(poll_pause_after(microseconds(0)) == microseconds(0));
  CHECK(poll_pause_after(microseconds(99)) == microseconds(0));
  CHECK(poll_pause_after(microseconds(100)) == microseconds(100));
  CHECK(poll_pause_after(milliseconds(9)) == microseconds(100));
  CHECK(poll_pause_after(milliseconds(10)) == microseconds(1000));
  CHECK(poll_pause_after(std::chrono::seconds(600)) == microseconds(1000));
}

TEST_CASE("synchronized iABN on one rank equals local iABN") {
  const std::unique_ptr<Communicator> single = make_communicator(CommBackend::Single, 10.0);
  SynchronizedBatchStatistics reducer(*single);
  LayerOptions options{DType::F64, Device::cpu(), 3};
  InPlaceAbn local("bn", 3, IabnActivation::LeakyRelu, options);
  options.batch_statistics_reducer = &reducer;
  InPlaceAbn synchronized("bn", 3, IabnActivation::LeakyRelu, options);
  Tensor x = Tensor::empty({2, 3, 2, 3}, DType::F64), dz = Tensor::empty({2, 3, 2, 3}, DType::F64);
  fill_normal(x, 5, 0, 0.5, 2.0);
  fill_normal(dz, 5, 1, 0.0, 1.0);
  Tensor x2 = x.clone(), dx = Tensor::empty(x.shape(), DType::F64), dx2 = dx.clone();
  const std::vector<double> z = local.forward(x, Mode::Train).to_vector<double>();
  const std::vector<double> z2 = synchronized.forward(x2, Mode::Train).to_vector<double>();
  local.backward(dz, dx);
  synchronized.backward(dz, dx2);
  const auto close = [](const std::vector<double>& a, const std::vector<double>& b) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-12));
  };
  close(z, z2);
  close(dx.to_vector<double>(), dx2.to_vector<double>());
  close(local.weight.grad.to_vector<double>(), synchronized.weight.grad.to_vector<double>());
  close(local.bias.grad.to_vector<double>(), synchronized.bias.grad.to_vector<double>());
  close(local.running_var.value.to_vector<double>(), synchronized.running_var.value.to_vector<double>());
}

TEST_CASE("gradient buckets: consecutive tensors up to the bucket size, a large tensor alone") {
  const std::vector<std::vector<std::size_t>> expected = {{0, 1}, {2}, {3}, {4}};
  CHECK(plan_gradient_buckets({10, 20, 5, 100, 1}, 30) == expected);
  CHECK(plan_gradient_buckets({}, 30).empty());
}

TEST_CASE("gradient averager: buckets in reverse parameter order, both modes, misuse named") {
  const std::unique_ptr<Communicator> single = make_communicator(CommBackend::Single, 10.0);
  const LayerOptions options;
  std::vector<Parameter> parameters = {constant_parameter("first", {3}, 0, options),
                                       constant_parameter("second", {1, 1}, 0, options),
                                       constant_parameter("third", {2}, 0, options)};
  parameters[0].grad.copy_from(Tensor::from_vector(std::vector<float>{1, 2, 3}, {3}));
  GradientAverager averager(*single, parameters, 12);  // 12 bytes: third and second together, first alone
  REQUIRE(averager.bucket_count() == 2);
  CHECK(averager.bucket_names(0) == std::vector<std::string>{"third", "second"});
  CHECK(averager.bucket_names(1) == std::vector<std::string>{"first"});
  averager.average();
  averager.on_gradients_ready({parameters[2], parameters[0]});
  CHECK_THROWS_WITH_AS(averager.on_gradients_ready({parameters[0]}),
                       doctest::Contains("first was reported ready twice"), Error);
  CHECK_THROWS_WITH_AS(averager.finish(), doctest::Contains("1 parameters were never reported ready (second)"), Error);
  CHECK_THROWS_WITH_AS(averager.average(), doctest::Contains("end it with finish()"), Error);
  averager.on_gradients_ready({parameters[1]});
  averager.finish();
  CHECK(parameters[0].grad.to_vector<float>() == std::vector<float>{1, 2, 3});
  const Parameter stranger = constant_parameter("fourth", {1}, 0, options);
  CHECK_THROWS_WITH_AS(averager.on_gradients_ready({stranger}), doctest::Contains("fourth was reported ready, but"),
                       Error);
  const Parameter impostor = constant_parameter("first", {3}, 0, options);
  CHECK_THROWS_WITH_AS(averager.on_gradients_ready({impostor}), doctest::Contains("another gradient tensor"), Error);
}

namespace {

// Rank 0 of 2 whose partner's gradients are all zero, so that an average halves every element
// (exactly: halving a normal number only changes its exponent). It logs the all-reduces it starts
// and finishes, and keeps a copy of each started buffer as it was at the start. The overlapped
// path uses no other collective.
class RecordingCommunicator final : public Communicator {
 public:
  explicit RecordingCommunicator(std::vector<std::string>& log) : Communicator({0, 2, 0, Launcher::None}), log_(log) {}

  CommBackend backend() const override { return CommBackend::Single; }
  Device device() const override { return Device::cpu(); }
  void all_reduce(Tensor&, ReduceOp) override { PANS_FAIL("RecordingCommunicator: no blocking all_reduce expected"); }
  std::unique_ptr<PendingCollective> start_all_reduce(Tensor& buffer, ReduceOp op) override {
    check_all_reduce(buffer);
    log_.push_back("start " + std::to_string(started.size()));
    started.push_back(buffer.clone());
    return std::make_unique<Pending>(*this, buffer, op, started.size() - 1);
  }
  void all_gather(const Tensor&, Tensor&) override { PANS_FAIL("RecordingCommunicator: no all_gather expected"); }
  void broadcast(Tensor&, int) override { PANS_FAIL("RecordingCommunicator: no broadcast expected"); }
  void barrier() override { PANS_FAIL("RecordingCommunicator: no barrier expected"); }

  std::vector<Tensor> started;  // each started buffer as it was when it started

 private:
  class Pending final : public PendingCollective {
   public:
    Pending(RecordingCommunicator& owner, const Tensor& buffer, ReduceOp op, std::size_t index)
        : owner_(owner), buffer_(buffer), op_(op), index_(index) {}
    bool test() override { return false; }  // completes in wait() only, so that only wait() changes the buffer
    void wait() override {
      owner_.log_.push_back("wait " + std::to_string(index_));
      if (op_ == ReduceOp::Average) halve(buffer_);
    }

   private:
    RecordingCommunicator& owner_;
    Tensor buffer_;
    ReduceOp op_;
    std::size_t index_;
  };

  static void halve(Tensor& buffer) {
    std::vector<double> values = buffer.to_vector<double>();
    for (double& v : values) v /= 2;
    buffer.copy_from(Tensor::from_vector(values, buffer.shape()));
  }

  std::vector<std::string>& log_;
};

}  // namespace

// With and without the deep-supervision gradient (then its branch is reported at once, untouched).
TEST_CASE("overlapped averaging: PspNet reports every parameter once, buckets start in order during its backward") {
  PspNet model(test::tiny_pspnet_config(), {DType::F64, Device::cpu(), 7});
  const std::vector<Parameter> parameters = model.parameters();
  std::vector<std::string> log;
  RecordingCommunicator communicator(log);
  GradientAverager averager(communicator, parameters, 512);  // 64 float64 values: several buckets
  REQUIRE(averager.bucket_count() > 4);
  std::vector<std::string> planned;
  for (std::size_t b = 0; b < averager.bucket_count(); ++b)
    for (const std::string& name : averager.bucket_names(b)) planned.push_back(name);
  std::vector<std::string> reversed;
  for (auto p = parameters.rbegin(); p != parameters.rend(); ++p) reversed.push_back(p->name);
  CHECK(planned == reversed);
  CHECK(planned.front() == "cls.cls_deepsup.weight");
  CHECK(planned.back() == "body.mod1.conv1.weight");

  for (const bool deep_supervision : {true, false}) {
    CAPTURE(deep_supervision);
    log.clear();
    communicator.started.clear();
    model.zero_grad();
    Tensor images = Tensor::empty({2, 17, 17, 3}, DType::F64);
    fill_normal(images, 3, 0, 0.0, 1.0);
    const PspNetOutput out = model.forward(images, Mode::Train, 0);
    Tensor dmain = Tensor::empty(out.logits.shape(), DType::F64), ddeep;
    fill_normal(dmain, 3, 1, 0.0, 1.0);
    if (deep_supervision) {
      ddeep = Tensor::empty(out.deep_supervision_logits.shape(), DType::F64);
      fill_normal(ddeep, 3, 2, 0.0, 1.0);
    }
    std::map<std::string, int> reports;
    model.backward(dmain, ddeep, [&](const std::vector<Parameter>& ready) {
      for (const Parameter& p : ready) ++reports[p.name];
      log.push_back("ready");
      averager.on_gradients_ready(ready);
    });
    log.push_back("backward done");

    CHECK(reports.size() == parameters.size());
    CHECK(std::all_of(reports.begin(), reports.end(), [](const auto& report) { return report.second == 1; }));
    // Every bucket started during the backward, in planned order, the first with more than half of
    // the layers still to come; none finished before finish().
    const auto first_start = std::find(log.begin(), log.end(), "start 0");
    REQUIRE(first_start != log.end());
    CHECK(std::count(first_start, log.end(), "ready") > std::count(log.begin(), first_start, "ready"));
    REQUIRE(communicator.started.size() == averager.bucket_count());
    std::vector<std::string> starts;
    std::copy_if(log.begin(), log.end(), std::back_inserter(starts),
                 [](const std::string& entry) { return entry.rfind("start", 0) == 0; });
    for (std::size_t b = 0; b < starts.size(); ++b) CHECK(starts[b] == "start " + std::to_string(b));
    CHECK(std::find(log.begin(), log.end(), "wait 0") == log.end());
    CHECK(log.back() == "backward done");

    // A bucket started with its members' final gradients: what it held at its start is what they
    // hold after the backward. finish() then writes back the averages (here exactly the halves).
    std::map<std::string, Tensor> final_gradients;
    for (const Parameter& p : parameters) final_gradients[p.name] = p.grad.clone();
    for (std::size_t b = 0; b < averager.bucket_count(); ++b) {
      std::vector<double> expected;
      for (const std::string& name : averager.bucket_names(b))
        for (const double v : final_gradients[name].to_vector<double>()) expected.push_back(v);
      CHECK(communicator.started[b].to_vector<double>() == expected);
    }
    averager.finish();
    for (const Parameter& p : parameters) {
      std::vector<double> halves = final_gradients[p.name].to_vector<double>();
      for (double& v : halves) v /= 2;
      CHECK(p.grad.to_vector<double>() == halves);
    }
    const std::vector<double> untouched = final_gradients["cls.cls_deepsup.weight"].to_vector<double>();
    CHECK(std::any_of(untouched.begin(), untouched.end(), [](double v) { return v != 0; }) == deep_supervision);
  }
}

TEST_CASE("collective watchdog: quiet while collectives finish in time, ends the process past the deadline") {
  {
    CollectiveWatchdog watchdog(0.5, "test");
    for (int i = 0; i < 3; ++i) {
      const CollectiveWatchdog::Watch watch(watchdog, "a quick collective");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // the child stands for a rank stuck in a collective
    CollectiveWatchdog watchdog(0.3, "rank 0 of 2");
    const CollectiveWatchdog::Watch watch(watchdog, "a collective whose peer died");
    std::this_thread::sleep_for(std::chrono::seconds(30));
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 124);
  CHECK(seconds < 10);
}
