// What train_pans runs: the recipe (everything the weights depend on) and the settings around it,
// with the defaults of each device.
//
// Two sets of defaults, picked by the device (cuda when a GPU is usable, else the CPU):
//  - CUDA: the paper's recipe on the full ResNet-50-D8 PSPNet: 40 epochs, batch 2, lr 0.007,
//    scales U[300/720, 1000/1280] of a 1280x720 image, 450x450 crops; the embedded dataset is
//    generated at StreetHazards' own 1280x720, so those pixel sizes mean what they mean in the
//    paper.
//  - CPU: the small preset on the embedded 384x216 images, sized to finish within 15 minutes on 2
//    cores including the dataset's generation. The paper's scales would shrink a 216-pixel-high
//    image to 90..170 pixels and its 450 crop would then be mostly padding, so the CPU recipe
//    states its scales relative to the stored image and crops a square of about the image height
//    (see cpu_defaults() for the numbers and why).
// Both recipes, and why they differ: docs/method.md#defaults-on-a-gpu-and-on-the-cpu.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "config/implementations.h"
#include "data/augment.h"
#include "data/scenes/scene_config.h"
#include "models/pspnet_config.h"
#include "tensor/device.h"

namespace pans {

enum class Preset { Small, Full };
const char* preset_name(Preset preset);  // "small", "full"
PspNetConfig preset_config(Preset preset, ClassifierKind classifier);

// Whether a run starts over or continues the latest complete checkpoint in its output folder.
enum class StartFrom { Scratch, LatestCheckpoint };

struct TrainConfig {
  // The recipe: a checkpoint records it, and resuming refuses a checkpoint whose recipe differs.
  Preset preset = Preset::Small;
  PspNetConfig model = PspNetConfig::small();
  std::string data_root;     // a StreetHazards root
  std::int64_t epochs = 40;  // the schedule's length, unless `iterations` is set
  std::optional<std::int64_t> iterations;
  std::int64_t batch = 2;  // per rank (global_batch() below), at least 2: InPlace-ABN trains on batch statistics
  AugmentConfig augment;
  double lr = 0.007;
  double momentum = 0.9, weight_decay = 1e-4, lr_power = 0.9, deep_supervision_weight = 0.4;
  std::uint64_t seed = 42;

  // How the run is carried out; free to change between a run and its resume.
  Device device = Device::cpu();
  int workers = 2;              // loader threads
  std::int64_t log_every = 50;  // iterations between progress lines
  std::int64_t val_every = 0;   // iterations between validations; 0: only at the end
  std::int64_t checkpoint_every = 1000;
  std::optional<std::int64_t> stop_after;  // stop (with a checkpoint) after this iteration
  int keep_checkpoints = 2;                // older complete checkpoints are deleted
  std::string out = "runs/train_pans";
  StartFrom start = StartFrom::Scratch;
  // A checkpoint whose model tensors (any subset of this model's: e.g. the backbone) replace the
  // initialisation of a run that does not resume from a checkpoint of its own.
  std::optional<std::string> init;
  // The run uses its normalization (the layers') and overlap_gradient_averaging; train_pans
  // configures the kernels with the same value (kernels/configuration.h).
  Implementations implementations;
};

// The defaults of a device type, data_root left empty (see embedded_dataset()).
TrainConfig cpu_defaults();
TrainConfig cuda_defaults();
TrainConfig defaults_for(Device device);

// The embedded dataset a device trains on without --data: where it is cached and what it holds.
struct EmbeddedDataset {
  std::string root;
  scenes::SceneConfig scenes;
};
EmbeddedDataset embedded_dataset(Device device);

// The images of one iteration over all ranks: --batch per rank x the world size. Data-parallel
// training with synchronized InPlace-ABN and averaged gradients is training on this global batch, so
// it, not the per-rank batch or the world size, is what the recipe records.
std::int64_t global_batch(const TrainConfig& config, int ranks);

// The schedule's length in iterations: `iterations` if set, else epochs x iterations per epoch,
// where an epoch is the training split once over all ranks, training_images / global batch
// (rounded down). It does not depend on how the global batch is split over ranks, so a run resumed
// with another world size and the same global batch keeps its schedule.
std::int64_t total_iterations(const TrainConfig& config, std::int64_t training_images, int ranks);

// The recipe as JSON, with the batch as the global batch and the schedule resolved to `iterations`;
// two runs with equal recipes train the same weights (up to rounding, and to the sample order when
// the world sizes differ).
nlohmann::json recipe_json(const TrainConfig& config, int ranks, std::int64_t iterations);

// Throws pans::Error naming the flag of the first setting out of range.
void check_train_config(const TrainConfig& config);

}  // namespace pans
