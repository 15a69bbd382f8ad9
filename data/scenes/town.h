// A "town": the layout and palette parameters shared by every image of one town folder, as CARLA's
// towns give StreetHazards its split-level shift (train t1-t3, validation t4, test t5-t6). Every
// town draws from the same ranges, so validation and test look like unseen places, not unseen
// worlds; only the test split adds anomalies.
#pragma once

#include <cstdint>
#include <vector>

#include "data/scenes/canvas.h"

namespace pans::scenes {

enum class FenceKind { Railing, Pickets, Mesh };
enum class WallKind { Brick, Concrete };

struct TownStyle {
  // Camera.
  double camera_height, horizontal_fov_degrees, horizon_fraction;
  // The street: lanes, sidewalks, markings.
  int lanes;
  double lane_width, sidewalk_width, tile_size;
  Color asphalt, sidewalk, curb, line_color, center_line_color;
  bool dashed_center;
  // Roadside: the chance of each front segment kind (building, wall, hedge, fence; the rest is open).
  double building_share, wall_share, hedge_share, fence_share;
  std::vector<Color> facade_palette;
  double building_min_height, building_max_height, floor_height, window_width, window_spacing;
  Color window_color, wall_color, fence_color, leaf_color, grass_color;
  WallKind wall_kind;
  FenceKind fence_kind;
  // Street furniture and traffic, per 100 m of street; the chance of a railing along each curb.
  double tree_spacing, pole_spacing, cars_per_100m, pedestrians_per_100m, clutter_per_100m, curb_railing_chance;
  // Sky and light.
  Color zenith, horizon;
  double cloudiness, sun_strength, visibility;
};

TownStyle make_town(std::uint64_t seed, int town);

}  // namespace pans::scenes
