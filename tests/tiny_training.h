// The tiny dataset and training recipe of the train_pans tests (tests/test_train.cpp, and on two
// ranks tests/test_dist_mpi.cpp): generated 64x40 scenes, and the CPU recipe with the model's
// structure at toy widths and toy sizes, so that a run takes milliseconds.
#pragma once

#include <string>

#include "data/scenes/generator.h"
#include "data/scenes/scene_config.h"
#include "train/train_config.h"

namespace pans::test {

inline scenes::SceneConfig tiny_scenes(int training, int validation, int test) {
  scenes::SceneConfig scenes;
  scenes.width = 64;
  scenes.height = 40;
  scenes.training_images = training;
  scenes.validation_images = validation;
  scenes.test_images = test;
  return scenes;
}

// Eight 64x40 scenes for training, two for validation and `test` with anomalies, generated into
// <folder>/scenes: a dataset that trains in milliseconds. Returns its root.
inline std::string tiny_dataset(const std::string& folder, int test = 1) {
  const std::string root = folder + "/scenes";
  scenes::generate_if_missing(root, tiny_scenes(8, 2, test), 1);
  return root;
}

inline TrainConfig tiny_train_config(const std::string& data_root, const std::string& out) {
  TrainConfig config = cpu_defaults();
  config.model.stem_channels = 4;
  config.model.widths = {2, 2, 3, 4};
  config.model.blocks = {1, 1, 1, 1};
  config.model.head_channels = 4;
  config.data_root = data_root;
  config.iterations = 6;
  config.lr = 0.02;
  config.augment.crop = 48;
  config.workers = 2;
  config.log_every = 2;
  config.val_every = 3;
  config.checkpoint_every = 100;
  config.out = out;
  return config;
}

}  // namespace pans::test
