#include "data/scenes/town.h"

#include "data/rng_streams.h"
#include "data/scenes/scene_random.h"

namespace pans::scenes {
namespace {

Color jitter(SceneRandom& random, Color base, float amount) {
  return {base.r + float(random.uniform(-amount, amount)), base.g + float(random.uniform(-amount, amount)),
          base.b + float(random.uniform(-amount, amount))};
}

Color grey(SceneRandom& random, double low, double high) {
  const float level = float(random.uniform(low, high));
  return {level, level, level};
}

// Families of façade colours; a town takes a few of them, each jittered.
const std::vector<Color> kFacadeColors = {{200, 190, 170}, {180, 170, 150}, {150, 95, 75},   {125, 125, 130},
                                          {170, 175, 185}, {205, 180, 130}, {160, 140, 120}, {110, 105, 100},
                                          {190, 160, 150}, {140, 150, 160}, {215, 210, 200}, {130, 110, 95}};
const std::vector<Color> kSidewalkColors = {{165, 165, 160}, {180, 170, 150}, {160, 125, 110}, {145, 145, 150}};
const std::vector<Color> kFenceColors = {{60, 75, 65}, {210, 210, 205}, {120, 85, 55}, {100, 100, 105}};

}  // namespace

TownStyle make_town(std::uint64_t seed, int town) {
  SceneRandom random(seed, data_stream(DataStream::Scene, 0xFFFF, town));
  TownStyle s;
  s.camera_height = random.uniform(1.4, 2.2);
  s.horizontal_fov_degrees = random.uniform(75, 95);
  s.horizon_fraction = random.uniform(0.40, 0.52);

  s.lanes = random.integer(2, 4);
  s.lane_width = random.uniform(3.0, 3.8);
  s.sidewalk_width = random.uniform(2.5, 5.0);
  s.tile_size = random.uniform(0.5, 1.2);
  s.asphalt = jitter(random, grey(random, 75, 115), 6);
  s.sidewalk = jitter(random, random.pick(kSidewalkColors), 12);
  s.curb = grey(random, 165, 200);
  s.line_color = grey(random, 215, 245);
  s.center_line_color = random.chance(0.4) ? Color{230, 195, 60} : s.line_color;
  s.dashed_center = random.chance(0.6);

  s.building_share = random.uniform(0.45, 0.7);
  s.wall_share = random.uniform(0.08, 0.2);
  s.hedge_share = random.uniform(0.08, 0.2);
  s.fence_share = random.uniform(0.1, 0.2);
  for (int i = 0; i < 4; ++i) s.facade_palette.push_back(jitter(random, random.pick(kFacadeColors), 15));
  s.building_min_height = random.uniform(5, 9);
  s.building_max_height = s.building_min_height + random.uniform(6, 25);
  s.floor_height = random.uniform(2.8, 3.6);
  s.window_width = random.uniform(0.9, 1.6);
  s.window_spacing = s.window_width + random.uniform(0.8, 2.0);
  s.window_color = jitter(random, {55, 65, 80}, 12);
  s.wall_kind = random.chance(0.5) ? WallKind::Brick : WallKind::Concrete;
  s.wall_color = s.wall_kind == WallKind::Brick ? jitter(random, {150, 80, 60}, 15) : grey(random, 140, 180);
  s.fence_kind = FenceKind(random.integer(0, 2));
  s.fence_color = jitter(random, random.pick(kFenceColors), 10);
  s.leaf_color = jitter(random, {70, 110, 45}, 15);
  s.grass_color = jitter(random, {95, 135, 60}, 12);

  s.tree_spacing = random.chance(0.75) ? random.uniform(8, 18) : 0;
  s.pole_spacing = random.uniform(12, 25);
  s.cars_per_100m = random.uniform(4, 12);
  s.pedestrians_per_100m = random.uniform(6, 14);
  s.clutter_per_100m = random.uniform(3, 8);
  s.curb_railing_chance = random.uniform(0, 0.6);

  const bool overcast = random.chance(0.3);
  s.zenith = overcast ? grey(random, 150, 185) : jitter(random, {90, 140, 215}, 20);
  s.horizon = overcast ? grey(random, 190, 215) : jitter(random, {195, 210, 225}, 12);
  s.cloudiness = random.uniform(0, overcast ? 0.3 : 0.6);
  s.sun_strength = overcast ? random.uniform(0.05, 0.15) : random.uniform(0.2, 0.4);
  s.visibility = random.uniform(150, 500);
  return s;
}

}  // namespace pans::scenes
