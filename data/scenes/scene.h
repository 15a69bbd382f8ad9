// One generated image: the town's style, the image's street and objects, anomalies for the test
// split with their area held inside 1-5 % of the pixels, then light, haze, a slight blur (the
// anti-aliasing a renderer gives edges) and sensor noise.
// The generator as a whole: docs/data_format.md#the-embedded-scene-generator.
#pragma once

#include <cstdint>

#include "data/image.h"
#include "data/scenes/scene_config.h"
#include "data/streethazards.h"

namespace pans::scenes {

struct RenderedScene {
  Image rgb;        // {H,W,3}
  Image label_png;  // {H,W,1}: class id + 1, the anomaly 14, as StreetHazards stores labels
};

// Image `index` of `split` (its town is scene_town(split, index)). A pure function of its arguments.
RenderedScene render_scene(const SceneConfig& config, Split split, std::int64_t index);

}  // namespace pans::scenes
