#include "train/train_config.h"

#include "checkpoint/recipe.h"
#include "tensor/error.h"

namespace pans {

const char* preset_name(Preset preset) { return preset == Preset::Small ? "small" : "full"; }

PspNetConfig preset_config(Preset preset, ClassifierKind classifier) {
  return preset == Preset::Small ? PspNetConfig::small(classifier) : PspNetConfig::resnet50_d8(classifier);
}

TrainConfig cpu_defaults() {
  TrainConfig config;
  config.preset = Preset::Small;
  config.model = preset_config(config.preset, ClassifierKind::Cosine);
  // Validation runs on the whole 384x216 image at scale 1, so training scales centre on 1, as the
  // paper's training range [0.42, 0.78] covers its test scales [0.42, 0.79]. A 192 crop holds
  // 89 % of the image height: most of a scene's layout, at 0.44 of the image's pixels.
  config.augment.min_scale = 0.75;
  config.augment.max_scale = 1.25;
  config.augment.crop = 192;
  config.epochs = 25;
  // From scratch and with a narrow network, a larger step than the paper's 0.007 learns faster in
  // the 15-minute budget: on the embedded data, validation mIoU13 53.2 at lr 0.02, 56.9 at 0.05.
  config.lr = 0.05;
  config.device = Device::cpu();
  config.workers = 1;  // one decoding thread keeps up (~5 ms per sample) and leaves the cores to the compute
  config.log_every = 100;
  config.val_every = 2000;
  config.checkpoint_every = 1000;
  return config;
}

TrainConfig cuda_defaults() {
  TrainConfig config;
  config.preset = Preset::Full;
  config.model = preset_config(config.preset, ClassifierKind::Cosine);
  config.augment = AugmentConfig{};  // docs/method.md#augmentation
  config.epochs = 40;
  config.lr = 0.007;
  config.device = Device::cuda(0);
  config.workers = 6;  // decoding and resizing 1280x720 PNGs at the GPU's pace
  config.log_every = 50;
  config.val_every = 2000;
  config.checkpoint_every = 1000;
  return config;
}

TrainConfig defaults_for(Device device) {
  TrainConfig config = device.is_cpu() ? cpu_defaults() : cuda_defaults();
  config.device = device;
  return config;
}

EmbeddedDataset embedded_dataset(Device device) {
  EmbeddedDataset dataset;
  if (device.is_cpu()) {
    dataset.root = "data_cache/scenes";  // make_scenes' default folder: both share one cache
  } else {
    dataset.root = "data_cache/scenes_1280x720";
    dataset.scenes.width = 1280;
    dataset.scenes.height = 720;
  }
  return dataset;
}

std::int64_t global_batch(const TrainConfig& config, int ranks) { return config.batch * ranks; }

std::int64_t total_iterations(const TrainConfig& config, std::int64_t training_images, int ranks) {
  if (config.iterations) return *config.iterations;
  const std::int64_t per_epoch = training_images / global_batch(config, ranks);
  PANS_CHECK(per_epoch > 0, "--batch ", config.batch, " x ", ranks, " rank(s): the training split has only ",
             training_images, " images");
  return config.epochs * per_epoch;
}

nlohmann::json recipe_json(const TrainConfig& config, int ranks, std::int64_t iterations) {
  return {{"format", "pans train_pans recipe"},
          {"preset", preset_name(config.preset)},
          {"model", pspnet_config_json(config.model)},
          {"data", config.data_root},
          {"iterations", iterations},
          {"batch", global_batch(config, ranks)},
          {"crop", config.augment.crop},
          {"scale_min", config.augment.min_scale},
          {"scale_max", config.augment.max_scale},
          {"flip", config.augment.flip == HorizontalFlip::Random},
          {"lr", config.lr},
          {"momentum", config.momentum},
          {"weight_decay", config.weight_decay},
          {"lr_power", config.lr_power},
          {"deep_supervision_weight", config.deep_supervision_weight},
          {"seed", config.seed}};
}

void check_train_config(const TrainConfig& c) {
  PANS_CHECK(c.batch >= 2, "--batch ", c.batch, ": at least 2 (InPlace-ABN normalises with batch statistics)");
  PANS_CHECK(c.epochs > 0, "--epochs ", c.epochs, ": must be positive");
  PANS_CHECK(!c.iterations || *c.iterations > 0, "--iterations ", c.iterations.value_or(0), ": must be positive");
  PANS_CHECK(c.augment.crop >= 8, "--crop ", c.augment.crop, ": at least 8 (the network's output stride)");
  PANS_CHECK(c.augment.min_scale > 0 && c.augment.min_scale <= c.augment.max_scale, "--scale-min ", c.augment.min_scale,
             " / --scale-max ", c.augment.max_scale, ": need 0 < min <= max");
  PANS_CHECK(c.lr > 0, "--lr ", c.lr, ": must be positive");
  PANS_CHECK(c.workers > 0, "--workers ", c.workers, ": at least 1");
  PANS_CHECK(c.log_every > 0, "--log-every ", c.log_every, ": must be positive");
  PANS_CHECK(c.val_every >= 0, "--val-every ", c.val_every, ": 0 (only at the end) or positive");
  PANS_CHECK(c.checkpoint_every > 0, "--checkpoint-every ", c.checkpoint_every, ": must be positive");
  PANS_CHECK(!c.stop_after || *c.stop_after > 0, "--stop-after ", c.stop_after.value_or(0), ": must be positive");
  PANS_CHECK(c.keep_checkpoints > 0, "--keep-checkpoints ", c.keep_checkpoints, ": at least 1");
  PANS_CHECK(!c.out.empty(), "--out: an output folder is needed");
}

}  // namespace pans
