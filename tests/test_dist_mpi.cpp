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
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "data/scenes/generator.h"
#include "dist/agreement.h"
#include "dist/communicator.h"
#include "dist/gradient_averager.h"
#include "dist/synchronized_batch_statistics.h"
#include "kernels/cross_entropy.h"
#include "kernels/random.h"
#include "models/pspnet.h"
#include "optim/sgd.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

using namespace pans;

namespace {

Communicator& world() {
  static const std::unique_ptr<Communicator> communicator =
      make_communicator(CommBackend::Mpi, collective_timeout_from_environment());
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

// The structure of the PAnS network at toy widths (tests/test_model.cpp's tiny model) without
// dropout, whose masks depend on an image's place in the batch.
PspNetConfig tiny_config() {
  PspNetConfig config;
  config.stem_channels = 4;
  config.widths = {2, 2, 3, 4};
  config.blocks = {1, 2, 1, 1};
  config.head_channels = 4;
  config.classes = 3;
  config.dropout = 0;
  return config;
}

// CE(main) + 0.4 CE(deep supervision), each a mean over the batch's pixels (none ignored, so that
// each rank's mean weighs its pixels as the global mean does), then backward.
void train_step(PspNet& model, const Tensor& images, const Tensor& labels, std::uint64_t step) {
  model.zero_grad();
  const PspNetOutput out = model.forward(images, Mode::Train, step);
  Tensor dmain = Tensor::empty(out.logits.shape(), out.logits.dtype());
  Tensor ddeep = Tensor::empty(out.deep_supervision_logits.shape(), out.logits.dtype());
  softmax_cross_entropy(out.logits, labels, dmain);
  softmax_cross_entropy(out.deep_supervision_logits, labels, ddeep, kIgnoreLabel, 0.4);
  model.backward(dmain, ddeep);
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
// them, or only this rank's share with the gradients averaged over the ranks.
constexpr std::int64_t kPerRank = 2;
constexpr int kSteps = 3;

void train(PspNet& model, Communicator* data_parallel) {
  SgdOptimizer optimizer(0.9, 1e-4);
  std::vector<Tensor> grads;
  for (const Parameter& p : model.parameters()) {
    optimizer.add(p.value, p.grad);
    grads.push_back(p.grad);
  }
  std::unique_ptr<GradientAverager> averager;
  if (data_parallel != nullptr) {
    averager = std::make_unique<GradientAverager>(*data_parallel, grads, 1024);  // small: several buckets
    CHECK(averager->bucket_count() > 1);
  }
  for (int step = 0; step < kSteps; ++step) {
    const Tensor images = normal({2 * kPerRank, 17, 17, 3}, model.options().dtype, 100 + std::uint64_t(step), 0.0, 1.0);
    const Tensor labels = labels_of(images);
    if (data_parallel == nullptr) {
      train_step(model, images, labels, std::uint64_t(step));
    } else {
      const std::int64_t start = data_parallel->rank() * kPerRank;
      train_step(model, images.narrow(0, start, kPerRank).clone(), labels.narrow(0, start, kPerRank).clone(),
                 std::uint64_t(step));
      averager->average();
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

namespace {

// The CPU recipe at toy sizes (tests/test_train.cpp's), without dropout.
TrainConfig tiny_train_config(const std::string& data_root, const std::string& out) {
  TrainConfig config = cpu_defaults();
  config.model.stem_channels = 4;
  config.model.widths = {2, 2, 3, 4};
  config.model.blocks = {1, 1, 1, 1};
  config.model.head_channels = 4;
  config.model.dropout = 0;
  config.data_root = data_root;
  config.iterations = 6;
  config.lr = 0.02;
  config.augment.crop = 48;
  config.workers = 1;
  config.log_every = 2;
  config.val_every = 3;
  config.checkpoint_every = 100;
  config.out = out;
  return config;
}

}  // namespace

// train_pans' loop on two ranks: rank 0 alone speaks and writes, a resume continues on every rank.
TEST_CASE("train_pans loop on two ranks with a resume") {
  Communicator& comm = world();
  // Rank 0 makes a folder of its own (named by its process id, so that concurrent test runs do not
  // meet) and the dataset; the other rank waits for it.
  Tensor leader_pid = Tensor::from_vector(std::vector<std::int32_t>{std::int32_t(getpid())}, {1});
  comm.broadcast(leader_pid, 0);
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() /
      ("pans_test_dist_train_" + std::to_string(leader_pid.to_vector<std::int32_t>()[0]));
  if (comm.rank() == 0) {
    std::filesystem::remove_all(root);
    scenes::SceneConfig scenes;
    scenes.width = 64;
    scenes.height = 40;
    scenes.training_images = 8;
    scenes.validation_images = 2;
    scenes.test_images = 1;
    scenes::generate_if_missing((root / "scenes").string(), scenes, 1);
  }
  comm.barrier();

  std::ostringstream console;
  TrainConfig first_half = tiny_train_config((root / "scenes").string(), (root / "run").string());
  first_half.stop_after = 3;
  CHECK(train(first_half, console, comm).iteration == 3);
  TrainConfig second_half = tiny_train_config((root / "scenes").string(), (root / "run").string());
  second_half.start = StartFrom::LatestCheckpoint;
  const TrainSummary summary = train(second_half, console, comm);
  CHECK(summary.iteration == 6);
  CHECK(complete_checkpoints((root / "run").string()) == std::vector<std::int64_t>{3, 6});
  if (comm.rank() == 0) {
    CHECK(console.str().find("resumed from") != std::string::npos);
    CHECK(summary.last_validation.has_value());
  } else {
    CHECK(console.str().empty());
  }
  comm.barrier();
  if (comm.rank() == 0) std::filesystem::remove_all(root);
}
