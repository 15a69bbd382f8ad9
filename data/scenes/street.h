// The street of one image, ray cast per pixel: road with lane markings and crosswalk, curbs and
// tiled sidewalks, then on each side a front row of segments along the sidewalk's outer edge
// (buildings, walls, hedges, fences, gaps) and a back row further out (buildings, tree lines),
// grass between and behind them, sometimes a building closing the street, and the sky. Perspective
// is exact because every pixel is traced to the surface it sees.
#pragma once

#include <cstdint>
#include <vector>

#include "data/scenes/canvas.h"
#include "data/scenes/scene_random.h"
#include "data/scenes/town.h"

namespace pans::scenes {

enum class SegmentKind { Building, Wall, Hedge, Fence, Open };

struct Segment {
  double z0, z1;  // along the street
  SegmentKind kind;
  double height;
  Color color;
  std::uint32_t texture;  // noise seed
};

struct StreetSide {
  double line;  // X of the row of segments (front) or of the back row
  std::vector<Segment> front, back;
};

struct Street {
  TownStyle style;
  Camera camera;
  double road_center, road_half_width, sidewalk_outer;  // X, relative to the camera
  StreetSide left, right;
  double back_setback;
  double end_z, end_height;  // a building across the street at end_z; infinite if the street runs on
  Color end_color;
  double crosswalk_z;  // < 0: none
  double dash_phase;
  int sun_side;  // -1: the sun is on the left (the right façades are lit, the left ones cast shadows)
  float lit, shaded, shadow_per_metre;
  Color zenith, horizon;
  std::uint32_t texture;
};

Street make_street(const TownStyle& style, SceneRandom& random, int width, int height);

// Paints every pixel of `canvas` with the surface its ray meets.
void render_street(const Street& street, Canvas& canvas);

// The segment of `row` covering z, or nullptr.
const Segment* segment_at(const std::vector<Segment>& row, double z);

}  // namespace pans::scenes
