// What the scene generator makes: the seed, the image size and the number of images per split.
// The towns follow CARLA's StreetHazards split: t1-t3 training, t4 validation, t5-t6 test.
#pragma once

#include <cstdint>
#include <string>

#include "data/streethazards.h"

namespace pans::scenes {

// Defaults sized for training on a CPU. 384x216 is StreetHazards' 1280x720 scaled by 0.3: the same
// 16:9 view, 1/11 of the pixels, and both sides multiples of 8 (the network's output stride), so a
// whole image evaluates without resizing on a 27x48 feature grid. 400/100/100 images generate in
// about 13 s of CPU time (under 10 s on 2 cores), decode and augment at several hundred samples/s
// per loader thread, and every known class shows up in more than 90 % of the training images.
struct SceneConfig {
  std::uint64_t seed = 1;
  int width = 384, height = 216;
  int training_images = 400, validation_images = 100, test_images = 100;
};

// The anomaly share of every test image lies in [kMinAnomalyShare, kMaxAnomalyShare].
constexpr double kMinAnomalyShare = 0.01, kMaxAnomalyShare = 0.05;

int images_in(const SceneConfig& config, Split split);
// The town of image `index` of `split` (1..6) and its folder name ("t1".."t6").
int scene_town(Split split, std::int64_t index);
std::string town_folder(int town);

}  // namespace pans::scenes
