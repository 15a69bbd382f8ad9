// The MPI backend with two ranks (run under mpirun -np 2 by ctest, label mpi). Every rank builds the
// same full batch from fixed seeds and computes the single-process reference itself, then checks its
// own share of the distributed result against it.
//
// Tolerances, as max |distributed - reference| / max(1, |reference|):
//   iABN, float64: 1e-14. Both sides compute the same formulas with sums in another order: a unit
//     or two of 2^-52 (observed up to 2.6e-16).
//   iABN, float32: 2e-6. The kernels accumulate in double either way; what differs is that each rank
//     rounds its mean, variance, sum(dy) and sum(xhat dy) to float32 before they travel (relative
//     2^-24 ~ 6e-8 each), and these errors reach the outputs multiplied by |x - mu|/sigma (at most
//     ~5 here) and by the few roundings of the elementwise pass (observed up to 3e-7: 2-3 units of
//     float32 rounding at the outputs' magnitude).
//   SGD on the tiny PSPNet: see the test case.
//   Overlapped against blocking gradient averaging: none, bit for bit (the test case says why).
//   Validation and split evaluation: none. The ranks share the images, not the arithmetic: counts
//     are summed exactly and the per-image metrics are added in image order, as one process does.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "config/environment.h"
#include "data/scenes/generator.h"
#include "dist/agreement.h"
#include "dist/communicator.h"
#include "dist/gradient_averager.h"
#include "dist/synchronized_batch_statistics.h"
#include "eval/split_evaluation.h"
#include "kernels/cross_entropy.h"
#include "kernels/random.h"
#include "models/pspnet.h"
#include "optim/sgd.h"
#include "tests/test_helpers.h"
#include "tests/tiny_model.h"
#include "tests/tiny_training.h"
#include "train/trainer.h"
#include "train/validation.h"

using namespace pans;
using namespace pans::test;

namespace {

Communicator& world() {
  static const std::unique_ptr<Communicator> communicator =
      make_communicator(CommBackend::Mpi, implementations_from_environment().collective_timeout_seconds);
  return *communicator;
}

// max |a - b| / max(1, |b|) over the elements of two tensors of one shape, in double.
double max_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.same_shape(b));
  const std::vector<double> x = a.cast(DType::F64).to_vector<double>(), y = b.cast(DType::F64).to_vector<double>();
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::abs(x[i] - y[i]) / std::max(1.0, std::abs(y[i])));
  return worst;
}

Tensor normal(const Shape& shape, DType dtype, std::uint64_t stream, double mean, double stddev) {
  Tensor t = Tensor::empty(shape, dtype);
  fill_normal(t, 11, stream, mean, stddev);
  return t;
}

double tolerance(DType dtype, double float64, double float32) { return dtype == DType::F64 ? float64 : float32; }

}  // namespace

TEST_CASE("mpi collectives and the start-up check") {
  Communicator& comm = world();
  REQUIRE(comm.world_size() == 2);
  const int rank = comm.rank();
  for (const DType dtype : {DType::F32, DType::F64}) {
    Tensor sum = Tensor::from_vector(std::vector<double>{rank + 1.0, 10.0 * (rank + 1)}, {2}).cast(dtype);
    Tensor average = sum.clone();
    comm.all_reduce(sum, ReduceOp::Sum);
    comm.all_reduce(average, ReduceOp::Average);
    CHECK(sum.cast(DType::F64).to_vector<double>() == std::vector<double>{3, 30});
    CHECK(average.cast(DType::F64).to_vector<double>() == std::vector<double>{1.5, 15});
  }
  const Tensor mine = Tensor::from_vector(std::vector<std::int32_t>{rank, 2 * rank + 7}, {2});
  Tensor gathered = Tensor::empty({4}, DType::I32);
  comm.all_gather(mine, gathered);
  CHECK(gathered.to_vector<std::int32_t>() == std::vector<std::int32_t>{0, 7, 1, 9});
  Tensor from_one = Tensor::from_vector(std::vector<float>{float(rank) + 0.5f}, {1});
  comm.broadcast(from_one, 1);
  CHECK(from_one.to_vector<float>() == std::vector<float>{1.5f});
  comm.barrier();

  check_ranks_agree(comm, configuration_hash("--lr 0.007 --batch 2"));
  CHECK_THROWS_WITH_AS(check_ranks_agree(comm, configuration_hash(rank == 0 ? "--lr 0.007" : "--lr 0.01")),
                       doctest::Contains("rank 1 has configuration hash"), Error);
  CHECK_THROWS_WITH_AS(make_communicator(CommBackend::Single, 10.0), doctest::Contains("cannot serve 2 ranks"), Error);
}

TEST_CASE("synchronized iABN equals iABN on the concatenated batch") {
  Communicator& comm = world();
  SynchronizedBatchStatistics reducer(comm);
  // Equal halves, and 1 + 3 images: unequal counts are why the statistics are gathered, not reduced.
  for (const std::array<std::int64_t, 2> split : {std::array<std::int64_t, 2>{2, 2}, std::array<std::int64_t, 2>{1, 3}})
    for (const DType dtype : {DType::F64, DType::F32})
      for (const IabnActivation activation : {IabnActivation::LeakyRelu, IabnActivation::Identity}) {
        CAPTURE(split[0]);
        CAPTURE(std::string(dtype_name(dtype)));
        CAPTURE(int(activation));
        const std::int64_t channels = 4, start = comm.rank() == 0 ? 0 : split[0];
        const std::int64_t images = split[std::size_t(comm.rank())];
        const Tensor x = normal({4, 3, 5, channels}, dtype, 1, 3.0, 2.0);
        const Tensor dz = normal({4, 3, 5, channels}, dtype, 2, 0.0, 1.0);
        const Tensor w = Tensor::from_vector(std::vector<double>{1.5, -0.7, 0.0, 2.0}, {channels}).cast(dtype);
        const Tensor b = Tensor::from_vector(std::vector<double>{0.1, -0.3, 0.2, 0.0}, {channels}).cast(dtype);

        LayerOptions options{dtype, Device::cpu(), 3};
        InPlaceAbn reference("bn", channels, activation, options);
        options.batch_statistics_reducer = &reducer;
        InPlaceAbn synchronized("bn", channels, activation, options);
        for (InPlaceAbn* layer : {&reference, &synchronized}) {
          layer->weight.value.copy_from(w);
          layer->bias.value.copy_from(b);
        }

        const Tensor z_reference = reference.forward(x.clone(), Mode::Train);
        const Tensor z = synchronized.forward(x.narrow(0, start, images).clone(), Mode::Train);
        CHECK(max_error(z, z_reference.narrow(0, start, images).clone()) < tolerance(dtype, 1e-14, 2e-6));
        CHECK(max_error(synchronized.running_mean.value, reference.running_mean.value) < tolerance(dtype, 1e-14, 2e-6));
        CHECK(max_error(synchronized.running_var.value, reference.running_var.value) < tolerance(dtype, 1e-14, 2e-6));

        Tensor dx_reference = Tensor::empty(x.shape(), dtype), dx = Tensor::empty({images, 3, 5, channels}, dtype);
        reference.backward(dz, dx_reference);
        synchronized.backward(dz.narrow(0, start, images).clone(), dx);
        CHECK(max_error(dx, dx_reference.narrow(0, start, images).clone()) < tolerance(dtype, 1e-14, 2e-6));
        // dw and db stay local sums: over the ranks they add up to the full batch's.
        for (Parameter* p : {&synchronized.weight, &synchronized.bias}) {
          Tensor total = p->grad.clone();
          comm.all_reduce(total, ReduceOp::Sum);
          const Tensor& expected = p == &synchronized.weight ? reference.weight.grad : reference.bias.grad;
          CHECK(max_error(total, expected) < tolerance(dtype, 1e-14, 2e-6));
        }
      }
}

namespace {

// The toy model (tests/tiny_model.h) without dropout, whose masks depend on an image's place in
// the batch.
PspNetConfig tiny_config() {
  PspNetConfig config = test::tiny_pspnet_config();
  config.dropout = 0;
  return config;
}

// CE(main) + 0.4 CE(deep supervision), each a mean over the batch's pixels (none ignored, so that
// each rank's mean weighs its pixels as the global mean does), then backward, reporting to `ready`.
void train_step(PspNet& model, const Tensor& images, const Tensor& labels, std::uint64_t step,
                const GradientReadyHook& ready = {}) {
  model.zero_grad();
  const PspNetOutput out = model.forward(images, Mode::Train, step);
  Tensor dmain = Tensor::empty(out.logits.shape(), out.logits.dtype());
  Tensor ddeep = Tensor::empty(out.deep_supervision_logits.shape(), out.logits.dtype());
  softmax_cross_entropy(out.logits, labels, dmain);
  softmax_cross_entropy(out.deep_supervision_logits, labels, ddeep, kIgnoreLabel, 0.4);
  model.backward(dmain, ddeep, ready);
}

// Labels the images predict: the band of the first channel's value.
Tensor labels_of(const Tensor& images) {
  const std::vector<double> pixels = images.cast(DType::F64).to_vector<double>();
  std::vector<std::uint8_t> labels(std::size_t(images.numel() / 3));
  for (std::size_t i = 0; i < labels.size(); ++i)
    labels[i] = std::uint8_t(std::clamp(int(std::floor(pixels[3 * i] + 1.5)), 0, 2));
  return Tensor::from_vector(labels, {images.dim(0), images.dim(1), images.dim(2)});
}

// Trains `model` for kSteps steps of Nesterov SGD on the fixed batches of 2 x kPerRank images: all of
// them, or only this rank's share with the gradients averaged over the ranks, during the backward
// (overlapped, as train_pans does) or after it (blocking).
constexpr std::int64_t kPerRank = 2;
constexpr int kSteps = 3;

enum class Averaging { Overlapped, Blocking };

void train(PspNet& model, Communicator* data_parallel, Averaging averaging = Averaging::Overlapped) {
  SgdOptimizer optimizer(0.9, 1e-4);
  const std::vector<Parameter> parameters = model.parameters();
  for (const Parameter& p : parameters) optimizer.add(p.value, p.grad);
  std::unique_ptr<GradientAverager> averager;
  if (data_parallel != nullptr) {
    averager = std::make_unique<GradientAverager>(*data_parallel, parameters, 1024);  // small: several buckets
    CHECK(averager->bucket_count() > 1);
  }
  for (int step = 0; step < kSteps; ++step) {
    const Tensor images = normal({2 * kPerRank, 17, 17, 3}, model.options().dtype, 100 + std::uint64_t(step), 0.0, 1.0);
    const Tensor labels = labels_of(images);
    if (data_parallel == nullptr) {
      train_step(model, images, labels, std::uint64_t(step));
    } else {
      const std::int64_t start = data_parallel->rank() * kPerRank;
      const Tensor my_images = images.narrow(0, start, kPerRank).clone();
      const Tensor my_labels = labels.narrow(0, start, kPerRank).clone();
      if (averaging == Averaging::Overlapped) {
        train_step(model, my_images, my_labels, std::uint64_t(step),
                   [&](const std::vector<Parameter>& ready) { averager->on_gradients_ready(ready); });
        averager->finish();
      } else {
        train_step(model, my_images, my_labels, std::uint64_t(step));
        averager->average();
      }
    }
    optimizer.step(0.01);
  }
}

// The largest max_error over the parameters and running statistics of two models.
double model_difference(const PspNet& actual, const PspNet& expected) {
  double worst = 0;
  const std::vector<Parameter> a = actual.parameters(), e = expected.parameters();
  for (std::size_t i = 0; i < e.size(); ++i) worst = std::max(worst, max_error(a[i].value, e[i].value));
  const std::vector<Buffer> ab = actual.buffers(), eb = expected.buffers();
  for (std::size_t i = 0; i < eb.size(); ++i) worst = std::max(worst, max_error(ab[i].value, eb[i].value));
  return worst;
}

}  // namespace

// float64 shows that the distributed computation is the single-process one: equal to 1e-10 after 3
// steps. In float32 this tiny network is ill-conditioned (iABN over 4 values per channel in the 1x1
// pyramid branch divides by small standard deviations): the single-process float32 run itself ends
// ~7e-3 away from float64. So float32 is checked for being as accurate as the single-process run:
// its distance to the float64 result within twice the single-process float32's.
TEST_CASE("data-parallel SGD equals one rank with the double batch") {
  Communicator& comm = world();
  SynchronizedBatchStatistics reducer(comm);
  PspNet reference(tiny_config(), {DType::F64, Device::cpu(), 42});
  train(reference, nullptr);
  for (const DType dtype : {DType::F64, DType::F32}) {
    CAPTURE(std::string(dtype_name(dtype)));
    PspNet replica(tiny_config(), {dtype, Device::cpu(), 42, &reducer});
    train(replica, &comm);
    // Every rank holds the same bits: they applied the same averaged gradients.
    for (const Parameter& p : replica.parameters()) {
      Tensor from_rank_0 = p.value.clone();
      comm.broadcast(from_rank_0, 0);
      CHECK(max_error(from_rank_0, p.value) == 0);
    }
    const double distributed_error = model_difference(replica, reference);
    if (dtype == DType::F64) {
      MESSAGE("float64: 2 ranks x ", kPerRank, " against 1 rank x ", 2 * kPerRank, ": ", distributed_error);
      CHECK(distributed_error < 1e-10);
    } else {
      PspNet single(tiny_config(), {dtype, Device::cpu(), 42});
      train(single, nullptr);
      const double single_error = model_difference(single, reference);
      MESSAGE("float32 against float64: 2 ranks x ", kPerRank, " ", distributed_error, ", 1 rank x ", 2 * kPerRank, " ",
              single_error);
      CHECK(distributed_error < 2 * single_error);
    }
  }
}

// Whether two tensors of one shape and dtype hold the same bytes (-0 and +0 differ, NaNs are compared
// by their bits).
bool same_bits(const Tensor& a, const Tensor& b) {
  REQUIRE((a.same_shape(b) && a.dtype() == b.dtype() && a.is_contiguous() && b.is_contiguous()));
  return std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

// The buckets' all-reduces started during the backward, on their own MPI communicator beside
// synchronized iABN's collectives, against all of them after the backward: the same bits, in
// float64 and float32. With two ranks each averaged element is (a + b) / 2: IEEE addition is
// commutative and correctly rounded, so whatever algorithm MPI picks for a bucket of that size and
// whichever rank's value it adds first, the sum is the same number, and both paths halve it alike.
// So the last step's gradients and the weights after 3 steps must match exactly; a difference would
// mean a bucket packed before its gradients were final, or averages written back to the wrong place.
TEST_CASE("overlapped gradient averaging gives the bits of blocking averaging") {
  Communicator& comm = world();
  SynchronizedBatchStatistics reducer(comm);
  for (const DType dtype : {DType::F64, DType::F32}) {
    CAPTURE(std::string(dtype_name(dtype)));
    PspNet overlapped(tiny_config(), {dtype, Device::cpu(), 42, &reducer});
    PspNet blocking(tiny_config(), {dtype, Device::cpu(), 42, &reducer});
    train(overlapped, &comm, Averaging::Overlapped);
    train(blocking, &comm, Averaging::Blocking);
    const std::vector<Parameter> a = overlapped.parameters(), b = blocking.parameters();
    std::size_t nonzero_gradients = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
      CAPTURE(b[i].name);
      CHECK(same_bits(a[i].grad, b[i].grad));
      CHECK(same_bits(a[i].value, b[i].value));
      nonzero_gradients += max_error(b[i].grad, Tensor::zeros(b[i].grad.shape(), dtype)) > 0;
    }
    const std::vector<Buffer> ab = overlapped.buffers(), bb = blocking.buffers();
    for (std::size_t i = 0; i < bb.size(); ++i) CHECK(same_bits(ab[i].value, bb[i].value));
    CHECK(nonzero_gradients > b.size() / 2);  // the comparison is of gradients that carry something
  }
}

namespace {

// Passes every collective on to `inner` and logs it, in the order the caller issues them: kind,
// dtype, element count and reduction; a started all-reduce's wait() as "wait <index of its start>".
// test() is passed on unlogged: how often it is polled depends on timing, not on the program.
class RecordingCommunicator final : public Communicator {
 public:
  explicit RecordingCommunicator(Communicator& inner) : Communicator(inner.rank_info()), inner_(inner) {}
  CommBackend backend() const override { return inner_.backend(); }
  Device device() const override { return inner_.device(); }

  void all_reduce(Tensor& buffer, ReduceOp op) override {
    record("all_reduce", buffer, op);
    inner_.all_reduce(buffer, op);
  }
  std::unique_ptr<PendingCollective> start_all_reduce(Tensor& buffer, ReduceOp op) override {
    record("start_all_reduce", buffer, op);
    return std::make_unique<Pending>(*this, inner_.start_all_reduce(buffer, op), starts_++);
  }
  void all_gather(const Tensor& local, Tensor& gathered) override {
    log_.push_back(detail::concat("all_gather ", dtype_name(local.dtype()), " x ", local.numel()));
    inner_.all_gather(local, gathered);
  }
  void broadcast(Tensor& buffer, int root) override {
    log_.push_back(detail::concat("broadcast ", dtype_name(buffer.dtype()), " x ", buffer.numel(), " from ", root));
    inner_.broadcast(buffer, root);
  }
  void barrier() override {
    log_.push_back("barrier");
    inner_.barrier();
  }

  const std::vector<std::string>& log() const { return log_; }

 private:
  class Pending final : public PendingCollective {
   public:
    Pending(RecordingCommunicator& owner, std::unique_ptr<PendingCollective> inner, int index)
        : owner_(owner), inner_(std::move(inner)), index_(index) {}
    bool test() override { return inner_->test(); }
    void wait() override {
      owner_.log_.push_back(detail::concat("wait ", index_));
      inner_->wait();
    }

   private:
    RecordingCommunicator& owner_;
    std::unique_ptr<PendingCollective> inner_;
    int index_;
  };

  void record(const char* kind, const Tensor& buffer, ReduceOp op) {
    log_.push_back(detail::concat(kind, " ", dtype_name(buffer.dtype()), " x ", buffer.numel(),
                                  op == ReduceOp::Sum ? " sum" : " average"));
  }

  Communicator& inner_;
  std::vector<std::string> log_;
  int starts_ = 0;
};

// Rank 0's text, on every rank.
std::string text_of_rank_0(Communicator& comm, const std::string& text) {
  Tensor length = Tensor::from_vector(std::vector<std::int32_t>{std::int32_t(text.size())}, {1});
  comm.broadcast(length, 0);
  Tensor bytes = Tensor::empty({length.to_vector<std::int32_t>()[0]}, DType::U8);
  if (comm.rank() == 0) std::copy(text.begin(), text.end(), bytes.data<std::uint8_t>());
  comm.broadcast(bytes, 0);
  const std::vector<std::uint8_t> received = bytes.to_vector<std::uint8_t>();
  return std::string(received.begin(), received.end());
}

}  // namespace

// What makes the NCCL backend safe by construction (dist/nccl_communicator.cpp): its one stream
// runs the collectives in the order the host issues them, so that order must be the same on every
// rank. Here each rank trains on its own, different images, and both must still issue the identical
// sequence of collectives, sizes included, with the bucket all-reduces started during the backward
// and synchronized iABN's blocking all-reduces issued while they are in flight.
TEST_CASE("both ranks issue the same collectives in the same order in an overlapped step") {
  Communicator& comm = world();
  RecordingCommunicator recording(comm);
  SynchronizedBatchStatistics reducer(recording);
  PspNet model(tiny_config(), {DType::F32, Device::cpu(), 42, &reducer});
  GradientAverager averager(recording, model.parameters(), 1024);  // small: several buckets
  const Tensor images = normal({kPerRank, 17, 17, 3}, DType::F32, 200 + std::uint64_t(comm.rank()), 0.0, 1.0);
  train_step(model, images, labels_of(images), 0,
             [&](const std::vector<Parameter>& ready) { averager.on_gradients_ready(ready); });
  averager.finish();

  const std::vector<std::string>& log = recording.log();
  std::string sequence;
  for (const std::string& entry : log) sequence += entry + "\n";
  CHECK(text_of_rank_0(comm, sequence) == sequence);

  const auto count = [&](const std::string& prefix) {
    return std::count_if(log.begin(), log.end(), [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
  };
  CHECK(count("start_all_reduce float32") == std::int64_t(averager.bucket_count()));
  CHECK(count("wait ") == std::int64_t(averager.bucket_count()));
  CHECK(count("all_gather float64") > 0);  // the forward's moment rows
  // Overlap on: a blocking all-reduce (iABN's backward) between the first start and the first wait.
  const auto first_start = std::find_if(log.begin(), log.end(), [](const std::string& e) {
    return e.rfind("start_all_reduce", 0) == 0;
  });
  const auto first_wait = std::find_if(log.begin(), log.end(), [](const std::string& e) { return e.rfind("wait ", 0) == 0; });
  CHECK(std::any_of(first_start, first_wait, [](const std::string& e) { return e.rfind("all_reduce float32", 0) == 0; }));
  MESSAGE("rank ", comm.rank(), ": ", log.size(), " collectives in one step, ", averager.bucket_count(), " buckets");
}

namespace {

// tests/tiny_training.h's recipe without dropout, whose masks depend on an image's place in the
// batch, and with one loader thread per rank.
TrainConfig tiny_dist_train_config(const std::string& data_root, const std::string& out) {
  TrainConfig config = tiny_train_config(data_root, out);
  config.model.dropout = 0;
  config.workers = 1;
  return config;
}

// A folder of rank 0's making with a generated dataset in <folder>/scenes, named by rank 0's process
// id (so that concurrent test runs do not meet); the other rank waits for it. Removed at the end.
class SharedScenes {
 public:
  SharedScenes(Communicator& comm, const char* name, const scenes::SceneConfig& scenes) : comm_(comm) {
    Tensor leader_pid = Tensor::from_vector(std::vector<std::int32_t>{std::int32_t(getpid())}, {1});
    comm.broadcast(leader_pid, 0);
    root_ = std::filesystem::temp_directory_path() /
            (std::string(name) + "_" + std::to_string(leader_pid.to_vector<std::int32_t>()[0]));
    if (comm.rank() == 0) {
      std::filesystem::remove_all(root_);
      scenes::generate_if_missing((root_ / "scenes").string(), scenes, 1);
    }
    comm.barrier();
  }
  ~SharedScenes() {
    comm_.barrier();
    if (comm_.rank() == 0) std::filesystem::remove_all(root_);
  }
  std::string scenes() const { return (root_ / "scenes").string(); }
  std::string operator/(const std::string& name) const { return (root_ / name).string(); }

 private:
  Communicator& comm_;
  std::filesystem::path root_;
};

}  // namespace

// train_pans' loop on two ranks: rank 0 alone speaks and writes, a resume continues on every rank.
TEST_CASE("train_pans loop on two ranks with a resume") {
  Communicator& comm = world();
  const SharedScenes root(comm, "pans_test_dist_train", tiny_scenes(8, 2, 1));
  std::ostringstream console;
  TrainConfig first_half = tiny_dist_train_config(root.scenes(), root / "run");
  first_half.stop_after = 3;
  CHECK(train(first_half, console, comm).iteration == 3);
  TrainConfig second_half = tiny_dist_train_config(root.scenes(), root / "run");
  second_half.start = StartFrom::LatestCheckpoint;
  const TrainSummary summary = train(second_half, console, comm);
  CHECK(summary.iteration == 6);
  CHECK(complete_checkpoints(root / "run") == std::vector<std::int64_t>{3, 6});
  if (comm.rank() == 0) {
    CHECK(console.str().find("resumed from") != std::string::npos);
    CHECK(summary.last_validation.has_value());
  } else {
    CHECK(console.str().empty());
  }
  // Validation is shared among the ranks, and every rank gets the whole split's scores.
  REQUIRE(summary.last_validation.has_value());
  Tensor miou = Tensor::from_vector(std::vector<double>{summary.last_validation->pixel_accuracy}, {1});
  comm.broadcast(miou, 0);
  CHECK(miou.to_vector<double>()[0] == summary.last_validation->pixel_accuracy);
}

// Validation images shared among the ranks (rank 0: images 0, 2, 4; rank 1: 1, 3) in batches of 2,
// against one process with batches {0, 1}, {2, 3}, {4}: the same matrix, count for count. Eval mode
// computes each image alone (every convolution output is the same dot product whatever the batch),
// so nothing but the counting is shared.
TEST_CASE("distributed validation gives the confusion matrix of one process") {
  Communicator& comm = world();
  const SharedScenes root(comm, "pans_test_dist_validation", tiny_scenes(1, 5, 1));
  const auto validation = std::make_shared<const StreetHazards>(root.scenes(), Split::Validation);
  TrainConfig config = tiny_dist_train_config(root.scenes(), root / "unused");
  PspNet model(config.model, {DType::F32, Device::cpu(), 7});
  const std::unique_ptr<Communicator> alone = make_single_process_communicator();
  const ConfusionMatrix reference = evaluate_native_resolution(model, validation, 2, 1, *alone);
  const ConfusionMatrix shared = evaluate_native_resolution(model, validation, 2, 1, comm);
  std::int64_t known_pixels = 0;
  for (std::int64_t i = 0; i < validation->size(); ++i)
    for (const std::uint8_t id : validation->load(i).label.pixels) known_pixels += id < 13;
  CHECK(reference.total() == known_pixels);
  std::int64_t different = 0, cells = 0;
  for (int truth = 0; truth < reference.classes(); ++truth)
    for (int predicted = 0; predicted < reference.classes(); ++predicted) {
      different += shared.count(truth, predicted) != reference.count(truth, predicted);
      cells += reference.count(truth, predicted) > 0;
    }
  CHECK(different == 0);
  CHECK(cells > reference.classes());  // the untrained network's predictions vary: the comparison means something
}

// eval_pans --checkpoint's split evaluation with the images shared among two ranks gives what one
// process gives, exactly: the per-image metrics are summed in image order on every rank, the
// pooled histograms widen alike and their counts add exactly. 5 test images: rank 1 sits out the
// last round.
TEST_CASE("distributed split evaluation gives the anomaly results of one process") {
  Communicator& comm = world();
  const SharedScenes root(comm, "pans_test_dist_eval", tiny_scenes(1, 1, 5));
  const StreetHazards test(root.scenes(), Split::Test);
  PspNetConfig config = tiny_config();
  config.classes = 13;
  PspNet model(config, {DType::F32, Device::cpu(), 2});
  std::ostringstream single_progress, shared_progress;
  const SplitEvaluation reference = evaluate_split(model, test, {0.75, 1.0}, single_progress, ProgressStyle::Lines);
  const SplitEvaluation shared = evaluate_split(model, test, {0.75, 1.0}, shared_progress, ProgressStyle::Lines, comm);
  CHECK(shared.images == 5);
  CHECK(reference.images == 5);
  CHECK(shared.confusion.total() == reference.confusion.total());
  for (int truth = 0; truth < 13; ++truth)
    for (int predicted = 0; predicted < 13; ++predicted)
      CHECK(shared.confusion.count(truth, predicted) == reference.confusion.count(truth, predicted));
  REQUIRE(shared.anomaly.size() == reference.anomaly.size());
  for (std::size_t k = 0; k < reference.anomaly.size(); ++k) {
    CAPTURE(score_kind_title(reference.anomaly[k].first));
    const AnomalyResult expected = reference.anomaly[k].second.result();
    const AnomalyResult actual = shared.anomaly[k].second.result();
    CHECK(expected.images > 0);
    CHECK(actual.auroc == expected.auroc);
    CHECK(actual.aupr == expected.aupr);
    CHECK(actual.fpr95 == expected.fpr95);
    CHECK(actual.images == expected.images);
    CHECK(actual.skipped == expected.skipped);
    CHECK(shared.anomaly[k].second.pooled_counts() == reference.anomaly[k].second.pooled_counts());
    CHECK(actual.pooled.curves().auroc == expected.pooled.curves().auroc);
  }
  CHECK(shared_progress.str().empty() == (comm.rank() != 0));
}

// A checkpoint resumed with another world size: accepted when the global batch stays (2 ranks x 2
// then 1 rank x 4, and 1 rank x 4 then 2 ranks x 2), continuing the same schedule of --epochs;
// refused, naming both world sizes, when it would change (2 ranks x 2 then 1 rank x 2). The runs of
// one rank are rank 0's, with a communicator of its own, while rank 1 waits.
TEST_CASE("resume with another world size keeps the global batch's schedule or is refused by name") {
  Communicator& comm = world();
  const SharedScenes root(comm, "pans_test_dist_world_size", tiny_scenes(8, 1, 1));
  const auto config = [&](const std::string& run, std::int64_t batch, std::optional<std::int64_t> stop_after) {
    TrainConfig c = tiny_dist_train_config(root.scenes(), root / run);
    c.iterations.reset();
    c.epochs = 2;  // 8 images / global batch 4: 2 iterations per epoch, 4 in all
    c.batch = batch;
    c.val_every = 0;
    c.stop_after = stop_after;
    c.start = stop_after ? StartFrom::Scratch : StartFrom::LatestCheckpoint;
    return c;
  };
  const std::unique_ptr<Communicator> alone = make_single_process_communicator();
  std::ostringstream console;

  CHECK(train(config("two_then_one", 2, 2), console, comm).iteration == 2);
  if (comm.rank() == 0) {
    check_error_mentions([&] { train(config("two_then_one", 2, std::nullopt), console, *alone); },
                         {checkpoint_path(root / "two_then_one", 2), "global batch of 4", "2 ranks x batch 2",
                          "now 1 rank x --batch 2 = 2", "--batch 4"});
    std::ostringstream resumed;
    const TrainSummary summary = train(config("two_then_one", 4, std::nullopt), resumed, *alone);
    CHECK(summary.iteration == 4);
    CHECK(summary.iterations == 4);
    CHECK(resumed.str().find("written by 2 ranks, continued by 1") != std::string::npos);
  }
  comm.barrier();

  if (comm.rank() == 0) CHECK(train(config("one_then_two", 4, 2), console, *alone).iteration == 2);
  comm.barrier();
  std::ostringstream resumed;
  const TrainSummary summary = train(config("one_then_two", 2, std::nullopt), resumed, comm);
  CHECK(summary.iteration == 4);
  CHECK(summary.iterations == 4);
  if (comm.rank() == 0) CHECK(resumed.str().find("written by 1 rank, continued by 2") != std::string::npos);
}
