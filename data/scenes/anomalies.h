// Anomalies for the test split: flat objects whose shapes (spiked stars, rings, four-legged animals,
// blobs, crescents, crosses) and textures (checkers, stripes, dots, rings, speckle) appear nowhere in
// training. Half of them take their colours from known classes (asphalt, foliage, car paint,
// façades, sky), so a model cannot flag them by colour alone.
#pragma once

#include <array>

#include "data/scenes/objects.h"

namespace pans::scenes {

enum class AnomalyShape { Star, Ring, Animal, Blob, Crescent, Cross };
enum class AnomalyTexture { Checker, Stripes, Dots, Rings, Speckle };

struct Anomaly {
  double x, z, lift, size;  // size: the height of the shape in metres (animals are 1.4 times wider)
  AnomalyShape shape;
  AnomalyTexture texture;
  Color first, second;
  double rotation, period, inner;
  int spikes;
  bool mirrored;
  std::array<std::array<double, 3>, 5> blobs;  // centre p, centre q, radius, in units of size
  std::uint32_t seed;
};

// An anomaly placed on the road or a sidewalk at a distance where it should cover about
// `target_pixels` pixels.
Anomaly make_anomaly(const Street& street, SceneRandom& random, double target_pixels);

// Draws `anomaly` with its size multiplied by `scale` (the area control's knob).
SceneObject anomaly_object(const Anomaly& anomaly, const Camera& camera, double scale);

}  // namespace pans::scenes
