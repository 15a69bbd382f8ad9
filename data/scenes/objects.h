// The things standing in the street, drawn far to near over the ray-cast background: cars (3D
// boxes: wheels, body, cabin, windows, lights), pedestrians, street lamps, traffic signs, trees and
// sidewalk clutter (the "other" class: bins, benches, crates, bollards, shelters, cabinets).
#pragma once

#include <functional>
#include <vector>

#include "data/scenes/canvas.h"
#include "data/scenes/scene_random.h"
#include "data/scenes/street.h"

namespace pans::scenes {

struct SceneObject {
  double z;  // nearest distance: objects are drawn in decreasing z (painter's order)
  std::function<void(Canvas&)> draw;
};

// An axis-aligned 3D box in world metres.
struct Box {
  double x0, x1, y0, y1, z0, z1;
};

// Paints the faces of `box` the camera sees (top, the side towards the camera's axis, the near
// face), each a shade of `color` with a little per-pixel texture.
void paint_box(Canvas& canvas, const Camera& camera, const Box& box, std::uint8_t cls, Color color,
               std::uint32_t texture);

// Cars, pedestrians, lamps, signs, trees and clutter for one image of `street`.
std::vector<SceneObject> populate_street(const Street& street, SceneRandom& random);

}  // namespace pans::scenes
