// train_pans: trains PAnS (docs/method.md#4-training-recipe) on StreetHazards, or, without --data,
// on the embedded procedural dataset, generated once into data_cache/. With no flags it picks the
// device (CUDA when a GPU is usable) and the defaults of that device (train/train_config.h): the
// paper's recipe with the full model on a GPU, a 15-minute recipe with the small preset on the CPU.
// Usage: docs/training.md.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "config/environment.h"
#include "data/scenes/generator.h"
#include "data/streethazards.h"
#include "kernels/configuration.h"
#include "tensor/cuda_runtime.h"
#include "train/trainer.h"

namespace {

using namespace pans;

// Every flag but --resume is optional: unset ones keep the device's default.
struct Flags {
  std::optional<std::string> data, device, preset, classifier, out;
  std::string dist = "auto";
  std::optional<std::int64_t> epochs, iterations, batch, crop, val_every, checkpoint_every, log_every, stop_after;
  std::optional<double> lr, scale_min, scale_max;
  std::optional<int> workers, threads, keep_checkpoints;
  std::optional<std::uint64_t> seed;
  bool resume = false;
  std::optional<std::string> init;
};

// "192 on the CPU, 450 on CUDA", or one value when both devices agree.
template <class T>
std::string defaults_text(T TrainConfig::*field) {
  std::ostringstream cpu, cuda;
  cpu << cpu_defaults().*field;
  cuda << cuda_defaults().*field;
  return cpu.str() == cuda.str() ? "default " + cpu.str()
                                 : "default " + cpu.str() + " on the CPU, " + cuda.str() + " on CUDA";
}

std::string augment_defaults_text(double AugmentConfig::*field) {
  std::ostringstream text;
  text << "default " << cpu_defaults().augment.*field << " on the CPU, " << cuda_defaults().augment.*field
       << " on CUDA";
  return text.str();
}

void add_flags(CLI::App& app, Flags& f) {
  const TrainConfig cpu = cpu_defaults(), cuda = cuda_defaults();
  app.add_option("--data", f.data,
                 "StreetHazards root (train/images/training/..., train/annotations/..., as released); default: the "
                 "embedded dataset, generated once into " +
                     embedded_dataset(Device::cpu()).root + " (384x216, for the CPU) or " +
                     embedded_dataset(Device::cuda(0)).root + " (1280x720, for CUDA)");
  app.add_option("--device", f.device, "cpu, cuda or cuda:N; default cuda when a GPU is usable, else cpu");
  app.add_option("--preset", f.preset,
                 "model size: small or full (ResNet-50-D8 PSPNet); default small on the CPU, "
                 "full on CUDA")
      ->check(CLI::IsMember({"small", "full"}));
  app.add_option("--classifier", f.classifier, "cosine (PAnS) or linear (the baseline); default cosine")
      ->check(CLI::IsMember({"cosine", "linear"}));
  app.add_option("--epochs", f.epochs, "schedule length in epochs; " + defaults_text(&TrainConfig::epochs));
  app.add_option("--iterations", f.iterations, "schedule length in iterations (instead of --epochs)")
      ->excludes("--epochs");
  app.add_option("--batch", f.batch,
                 "images per iteration, at least 2 (InPlace-ABN); " + defaults_text(&TrainConfig::batch));
  app.add_option("--crop", f.crop,
                 "square training crop side in pixels; default " + std::to_string(cpu.augment.crop) +
                     " on the CPU (about the 216-pixel height of the embedded images), " +
                     std::to_string(cuda.augment.crop) + " on CUDA (the paper's)");
  app.add_option("--scale-min", f.scale_min,
                 "smallest random scale, a factor on the stored image; " +
                     augment_defaults_text(&AugmentConfig::min_scale) + " (the paper's 300/720)");
  app.add_option(
      "--scale-max", f.scale_max,
      "largest random scale; " + augment_defaults_text(&AugmentConfig::max_scale) + " (the paper's 1000/1280)");
  app.add_option("--lr", f.lr, "base learning rate of the poly schedule; " + defaults_text(&TrainConfig::lr));
  app.add_option("--seed", f.seed,
                 "seed of the weights, the sample order and the augmentation; " + defaults_text(&TrainConfig::seed));
  app.add_option("--workers", f.workers, "data loader threads; " + defaults_text(&TrainConfig::workers));
  app.add_option("--threads", f.threads,
                 "threads of the CPU kernels; default: one per core (" +
                     std::to_string(std::thread::hardware_concurrency()) + " here)");
  app.add_option("--val-every", f.val_every,
                 "validate every N iterations (and always at the end; 0: only at the end); " +
                     defaults_text(&TrainConfig::val_every));
  app.add_option("--log-every", f.log_every,
                 "progress line every N iterations; " + defaults_text(&TrainConfig::log_every));
  app.add_option(
      "--checkpoint-every", f.checkpoint_every,
      "checkpoint every N iterations (and always at the end); " + defaults_text(&TrainConfig::checkpoint_every));
  app.add_option("--keep-checkpoints", f.keep_checkpoints,
                 "complete checkpoints kept, older ones are deleted; " + defaults_text(&TrainConfig::keep_checkpoints));
  app.add_option("--stop-after", f.stop_after,
                 "stop (with a checkpoint) after this iteration, e.g. to split a run into jobs; --resume continues");
  app.add_option("--out", f.out,
                 "output folder: metrics.jsonl, checkpoint_<it>.bin with DONE_<it> markers; default " + cpu.out);
  app.add_option("--dist", f.dist,
                 "data parallelism over the ranks of mpirun, srun or torchrun (docs/distributed.md): single (one "
                 "process), mpi (host memory, --device cpu) or nccl (one GPU per rank, cuda:<local rank>); --batch "
                 "is per rank; default auto: single without a launcher, else nccl with a GPU and mpi without")
      ->check(CLI::IsMember({"auto", "single", "mpi", "nccl"}));
  app.add_option("--init", f.init,
                 "a checkpoint whose model tensors (any subset of this model's, matched by name: e.g. a backbone) "
                 "start the run instead of the initialisation; prints what it loaded, left and did not use; a "
                 "tensor of another shape is an error naming it; ignored when --resume finds a checkpoint");
  app.add_flag("--resume", f.resume,
               "continue from the highest complete checkpoint in --out (same recipe flags as the first run); starts "
               "from iteration 0 when there is none. Without it, an --out that already holds a run is refused");
}

template <class T, class U>
void set_if(const std::optional<T>& flag, U& field) {
  if (flag) field = U(*flag);
}

// The device's defaults, overridden by the flags given. Under NCCL the rank's own GPU.
TrainConfig config_from(const Flags& f, const Communicator& communicator) {
  const Device default_device = communicator.backend() == CommBackend::Nccl ? communicator.device()
                                : cuda_device_count() > 0                   ? Device::cuda(0)
                                                                            : Device::cpu();
  const Device device = f.device ? device_from_flag(f.device) : default_device;
  PANS_CHECK(communicator.backend() != CommBackend::Nccl || device == communicator.device(), "--device ", device.str(),
             ": with --dist nccl each rank trains on its own GPU, ", communicator.device().str(), " for ",
             communicator.describe());
  TrainConfig config = defaults_for(device);
  if (f.preset) config.preset = *f.preset == "small" ? Preset::Small : Preset::Full;
  const ClassifierKind classifier =
      f.classifier && *f.classifier == "linear" ? ClassifierKind::Linear : ClassifierKind::Cosine;
  config.model = preset_config(config.preset, classifier);
  set_if(f.epochs, config.epochs);
  if (f.iterations) config.iterations = *f.iterations;
  set_if(f.batch, config.batch);
  set_if(f.crop, config.augment.crop);
  set_if(f.scale_min, config.augment.min_scale);
  set_if(f.scale_max, config.augment.max_scale);
  set_if(f.lr, config.lr);
  set_if(f.seed, config.seed);
  set_if(f.workers, config.workers);
  set_if(f.val_every, config.val_every);
  set_if(f.log_every, config.log_every);
  set_if(f.checkpoint_every, config.checkpoint_every);
  set_if(f.keep_checkpoints, config.keep_checkpoints);
  if (f.stop_after) config.stop_after = *f.stop_after;
  set_if(f.out, config.out);
  config.start = f.resume ? StartFrom::LatestCheckpoint : StartFrom::Scratch;
  config.init = f.init;
  return config;
}

// The dataset root to train on: --data after a check of its layout, or the embedded dataset,
// generated on first use.
std::string prepare_data_alone(const std::optional<std::string>& data, Device device) {
  if (data) {
    try {
      StreetHazards training(*data, Split::Training), validation(*data, Split::Validation);
    } catch (const Error& error) {
      throw Error("--data " + *data + " is not a StreetHazards root: " + error.what());
    }
    return std::filesystem::canonical(*data).string();
  }
  const EmbeddedDataset embedded = embedded_dataset(device);
  const auto start = std::chrono::steady_clock::now();
  std::printf("data: the embedded dataset in %s (%dx%d; generated on first use)\n", embedded.root.c_str(),
              embedded.scenes.width, embedded.scenes.height);
  std::fflush(stdout);
  if (scenes::generate_if_missing(embedded.root, embedded.scenes))
    std::printf("data: generated %d + %d + %d images in %.1f s\n", embedded.scenes.training_images,
                embedded.scenes.validation_images, embedded.scenes.test_images,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return std::filesystem::canonical(embedded.root).string();
}

// prepare_data_alone on rank 0 first; the other ranks then find the data complete.
std::string prepare_data(const std::optional<std::string>& data, Device device, Communicator& communicator) {
  if (communicator.rank() != 0) {
    communicator.barrier();
    return std::filesystem::canonical(data ? *data : embedded_dataset(device).root).string();
  }
  const std::string root = prepare_data_alone(data, device);
  communicator.barrier();
  return root;
}

int run(const Flags& flags) {
  const auto start = std::chrono::steady_clock::now();
  const Implementations implementations = app_implementations(flags.threads);
  const std::unique_ptr<Communicator> communicator =
      make_communicator(comm_backend_for_flags(flags.dist, flags.device), implementations.collective_timeout_seconds);
  TrainConfig config = config_from(flags, *communicator);
  config.implementations = implementations;
  // Rank 0 speaks for the job; the others' errors still reach stderr.
  if (communicator->rank() != 0)
    PANS_CHECK(std::freopen("/dev/null", "w", stdout) != nullptr, "rank ", communicator->rank(),
               ": cannot silence stdout");
  if (communicator->world_size() > 1)
    std::printf("dist: %d ranks over %s, %lld images per iteration (%lld per rank)\n", communicator->world_size(),
                comm_backend_name(communicator->backend()).c_str(),
                static_cast<long long>(config.batch * communicator->world_size()),
                static_cast<long long>(config.batch));
  if (!flags.device && config.device.is_cpu())
    std::printf("device: no usable GPU (%s): the CPU recipe\n", cuda_unavailable_reason().c_str());
  configure_kernels(implementations);
  std::printf("implementations: %s\n", describe(implementations).c_str());
  check_train_config(config);
  config.data_root = prepare_data(flags.data, config.device, *communicator);

  const TrainSummary summary = train(config, std::cout, *communicator);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("train_pans: stopped at iteration %lld of %lld after %.1f s (%.1f img/s while training)",
              static_cast<long long>(summary.iteration), static_cast<long long>(summary.iterations), seconds,
              summary.images_per_second);
  if (summary.last_validation && summary.last_validation->miou13)
    std::printf("; validation mIoU13 %.1f, mIoU11 %.1f", 100 * *summary.last_validation->miou13,
                100 * summary.last_validation->miou11.value_or(0));
  std::printf("\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{
      "Trains PAnS (ResNet-50-D8 PSPNet with a cosine classifier, method.md §4): cross-entropy (ignore 255) plus "
      "0.4 x the deep-supervision cross-entropy, Nesterov SGD with momentum 0.9 and weight decay 1e-4 on every "
      "parameter, poly learning rate lr (1 - it/max_it)^0.9 per iteration. Without --data it trains on pans' "
      "embedded StreetHazards-format scenes, generated once.\n\n"
      "Defaults follow the device. CUDA: the paper's recipe, full model, 40 epochs of batch 2, 450x450 crops at "
      "scales [300/720, 1000/1280] of 1280x720 images (the embedded data is generated at that size). CPU: the small "
      "preset on the 384x216 embedded images, sized to finish within 15 minutes on 2 cores including the data's "
      "generation; there the paper's scales would shrink an image to 90-170 pixels high and a 450 crop would be "
      "mostly padding, so the CPU scales are factors around 1 of the stored image (validation runs at native size) "
      "and the crop is about the image height.\n\n"
      "Writes progress lines, <out>/metrics.jsonl (one JSON object per logged iteration and per validation) and "
      "atomic checkpoints (model, running statistics, momentum, iteration, recipe); --resume continues exactly."};
  add_flags(app, flags);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(flags);
  } catch (const std::exception& error) {
    std::fflush(stdout);
    std::fprintf(stderr, "train_pans: %s\n", error.what());
    return 1;
  }
}
