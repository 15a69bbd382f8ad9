#include "data/scenes/street.h"

#include <cmath>
#include <limits>

#include "data/classes.h"

namespace pans::scenes {
namespace sh = pans::streethazards;
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kLineHalfWidth = 0.12;  // markings are wider than real ones so they survive 1/4 resolution
constexpr double kCurbWidth = 0.3;

double positive_mod(double value, double period) { return value - period * std::floor(value / period); }

enum class Row { Front, Back };

std::vector<Segment> make_row(const TownStyle& style, SceneRandom& random, Row which) {
  std::vector<Segment> row;
  for (double z = -5; z < 450;) {
    Segment s;
    s.z0 = z;
    s.z1 = z + random.uniform(6, 30);
    s.texture = random.noise_seed();
    const double roll = random.uniform();
    if (which == Row::Back) {
      s.kind = roll < 0.5 ? SegmentKind::Building : roll < 0.8 ? SegmentKind::Hedge : SegmentKind::Open;
      s.height = s.kind == SegmentKind::Building ? random.uniform(8, 40) : random.uniform(5, 12);
    } else {
      const double building = style.building_share, wall = building + style.wall_share;
      const double hedge = wall + style.hedge_share, fence = hedge + style.fence_share;
      s.kind = roll < building ? SegmentKind::Building
               : roll < wall   ? SegmentKind::Wall
               : roll < hedge  ? SegmentKind::Hedge
               : roll < fence  ? SegmentKind::Fence
                               : SegmentKind::Open;
      switch (s.kind) {
        case SegmentKind::Building:
          s.height = random.uniform(style.building_min_height, style.building_max_height);
          break;
        case SegmentKind::Wall:
          s.height = random.uniform(1.8, 3.5);
          break;
        case SegmentKind::Hedge:
          s.height = random.uniform(1.0, 3.5);
          break;
        case SegmentKind::Fence:
          s.height = random.uniform(1.2, 2.2);
          break;
        case SegmentKind::Open:
          s.height = 0;
          break;
      }
    }
    const Color base = s.kind == SegmentKind::Building ? random.pick(style.facade_palette)
                       : s.kind == SegmentKind::Wall   ? style.wall_color
                       : s.kind == SegmentKind::Fence  ? style.fence_color
                                                       : style.leaf_color;
    s.color = base * float(random.uniform(0.85, 1.15));
    row.push_back(s);
    z = s.z1 + (random.chance(0.2) ? random.uniform(1, 6) : 0);  // a gap shows what lies behind
  }
  return row;
}

Paint facade(Color color, Color window, double along, double y, double height, std::uint32_t texture,
             const TownStyle& style) {
  const float grime = 0.9f + 0.15f * fractal_noise(float(along * 0.7), float(y * 0.7), texture);
  if (y > height - 0.4) return paint(sh::kBuilding, color * (0.75f * grime));  // cornice
  const double floor = style.floor_height;
  if (y < floor) {  // ground floor: shop windows and doors
    const double bay = positive_mod(along, 5.0);
    if (bay > 0.6 && bay < 4.4 && y > 0.4 && y < 2.6)
      return paint(sh::kBuilding, window * (1.1f + 0.3f * float(y / 2.6)));
    return paint(sh::kBuilding, color * (0.8f * grime));
  }
  const double in_floor = positive_mod(y, floor), window_top = 0.9 + std::min(1.7, floor - 1.1);
  const double in_bay = positive_mod(along, style.window_spacing);
  if (in_bay < style.window_width && in_floor > 0.9 && in_floor < window_top) {
    const float reflection = 0.8f + 0.4f * value_noise(float(along * 0.3), float(y * 0.3), texture + 7);
    return paint(sh::kBuilding, window * reflection);
  }
  if (in_bay < style.window_width && in_floor > 0.8 && in_floor <= 0.9) return paint(sh::kBuilding, color * 1.15f);
  return paint(sh::kBuilding, color * grime);
}

Paint wall(const Segment& s, double along, double y, const TownStyle& style) {
  if (y > s.height - 0.15) return paint(sh::kWall, s.color * 1.2f);  // coping
  if (style.wall_kind == WallKind::Brick) {
    const int row = int(std::floor(y / 0.3));
    const double shifted = along + (row % 2 ? 0.3 : 0.0);
    if (positive_mod(y, 0.3) < 0.04 || positive_mod(shifted, 0.6) < 0.04) return paint(sh::kWall, {185, 180, 170});
    const float tone = 0.85f + 0.3f * lattice_value(int(std::floor(shifted / 0.6)), row, s.texture);
    return paint(sh::kWall, s.color * tone);
  }
  if (positive_mod(along, 2.5) < 0.05) return paint(sh::kWall, s.color * 0.7f);
  return paint(sh::kWall, s.color * (0.85f + 0.25f * fractal_noise(float(along), float(y * 2), s.texture)));
}

Paint fence(const Segment& s, double along, double y, const TownStyle& style) {
  const Color c = s.color;
  const bool post = positive_mod(along, 2.2) < 0.12;
  switch (style.fence_kind) {
    case FenceKind::Railing: {
      const bool rail = std::abs(y - 0.9 * s.height) < 0.05 || std::abs(y - 0.25 * s.height) < 0.05;
      if (post || rail || positive_mod(along, 0.3) < 0.06) return paint(sh::kFence, c);
      return {};
    }
    case FenceKind::Pickets: {
      const double in_board = positive_mod(along, 0.2);
      const double top = s.height - 0.15 * std::abs(in_board - 0.06) / 0.06;  // pointed boards
      if ((in_board < 0.12 && y < top) || std::abs(y - 0.5 * s.height) < 0.05) return paint(sh::kFence, c);
      return {};
    }
    case FenceKind::Mesh: {
      const bool wire = positive_mod(along + y, 0.25) < 0.035 || positive_mod(along - y, 0.25) < 0.035;
      if (post || wire || y > s.height - 0.06) return paint(sh::kFence, c * (wire && !post ? 0.85f : 1.0f));
      return {};
    }
  }
  return {};
}

Paint vegetation(Color leaf, double a, double b, std::uint32_t texture) {
  const float leaves = fractal_noise(float(a * 2.5), float(b * 2.5), texture);
  return paint(sh::kVegetation, leaf * (0.6f + 0.7f * leaves));
}

// The surface of a row of segments at (z, y), lit by `light`.
Paint paint_row(const Street& street, const std::vector<Segment>& row, double z, double y, float light) {
  const Segment* s = segment_at(row, z);
  if (s == nullptr || y < 0 || y > s->height) return {};
  Paint p;
  switch (s->kind) {
    case SegmentKind::Building:
      p = facade(s->color, street.style.window_color, z - s->z0, y, s->height, s->texture, street.style);
      break;
    case SegmentKind::Wall:
      p = wall(*s, z - s->z0, y, street.style);
      break;
    case SegmentKind::Hedge:
      if (y > s->height * (0.8 + 0.35 * value_noise(float(z * 0.9), 0.5f, s->texture))) return {};
      p = vegetation(s->color, z, y, s->texture);
      break;
    case SegmentKind::Fence:
      p = fence(*s, z - s->z0, y, street.style);
      break;
    case SegmentKind::Open:
      return {};
  }
  p.color = p.color * light;
  return p;
}

// Ground between the façade rows: road, markings, curb, sidewalk.
Paint street_ground(const Street& street, double x, double z) {
  const TownStyle& style = street.style;
  const double lateral = x - street.road_center, offset = std::abs(lateral);
  const float shade = [&] {  // the shadow the sun-side row casts across the street
    const StreetSide& sun = street.sun_side < 0 ? street.left : street.right;
    const Segment* s = segment_at(sun.front, z);
    const bool casts = s != nullptr && s->kind != SegmentKind::Open && s->kind != SegmentKind::Fence;
    return casts && std::abs(x - sun.line) < s->height * street.shadow_per_metre ? street.shaded : 1.0f;
  }();
  if (offset < street.road_half_width) {
    const bool dash = positive_mod(z + street.dash_phase, 9.0) < 3.5;
    bool line = std::abs(offset - (street.road_half_width - 0.35)) < kLineHalfWidth;
    Color line_color = style.line_color;
    for (int k = 1; k < style.lanes; ++k) {
      if (std::abs(lateral - (-street.road_half_width + k * style.lane_width)) >= kLineHalfWidth) continue;
      const bool center = k == style.lanes / 2;
      line = center && !style.dashed_center ? true : dash;
      if (center) line_color = style.center_line_color;
    }
    const bool crosswalk = street.crosswalk_z >= 0 && z > street.crosswalk_z && z < street.crosswalk_z + 3.5 &&
                           positive_mod(lateral + 50, 1.0) < 0.5 && offset < street.road_half_width - 0.6;
    if (line || crosswalk) {
      const float wear = 0.8f + 0.2f * value_noise(float(x * 4), float(z * 2), street.texture + 3);
      return paint(sh::kRoadLine, line_color * (wear * shade));
    }
    const float grain = 0.88f + 0.24f * fractal_noise(float(x * 1.5), float(z * 1.5), street.texture);
    const float patches = 0.92f + 0.12f * value_noise(float(x * 0.15), float(z * 0.08), street.texture + 1);
    return paint(sh::kRoad, style.asphalt * (grain * patches * shade));
  }
  if (offset < street.road_half_width + kCurbWidth) return paint(sh::kSidewalk, style.curb * shade);
  const double across = offset - street.road_half_width - kCurbWidth;
  const bool joint = positive_mod(across, style.tile_size) < 0.05 || positive_mod(z, style.tile_size) < 0.05;
  const float tone = 0.92f + 0.16f * fractal_noise(float(x * 2), float(z * 2), street.texture + 2);
  return paint(sh::kSidewalk, style.sidewalk * (tone * (joint ? 0.82f : 1.0f) * shade));
}

Paint sky(const Street& street, int x, int y) {
  const double horizon = std::max(street.camera.horizon_y, 1.0);
  const float t = float(std::clamp((horizon - (y + 0.5)) / horizon, 0.0, 1.0));
  Color c = mix(street.horizon, street.zenith, std::sqrt(t));
  const float cloud = fractal_noise(float(x) / 35.0f, float(y) / 12.0f, street.texture + 5);
  const float cover = float(street.style.cloudiness);
  if (cloud > 1.0f - cover) c = mix(c, Color{232, 232, 236}, std::min(1.0f, (cloud - 1.0f + cover) * 4.0f));
  return paint(sh::kUnlabeled, c);
}

}  // namespace

const Segment* segment_at(const std::vector<Segment>& row, double z) {
  for (const Segment& s : row)
    if (z >= s.z0 && z < s.z1) return &s;
  return nullptr;
}

Street make_street(const TownStyle& style, SceneRandom& random, int width, int height) {
  Street st;
  st.style = style;
  const double fov = (style.horizontal_fov_degrees + random.uniform(-3, 3)) * kPi / 180.0;
  st.camera.focal = width / 2.0 / std::tan(fov / 2);
  st.camera.center_x = width * (0.5 + random.uniform(-0.08, 0.08));
  st.camera.horizon_y = height * (style.horizon_fraction + random.uniform(-0.03, 0.03));
  st.camera.height = style.camera_height + random.uniform(-0.1, 0.1);

  st.road_half_width = style.lanes * style.lane_width / 2;
  const int lane = random.integer(style.lanes / 2, style.lanes - 1);  // driving on the right
  st.road_center = st.road_half_width - (lane + 0.5) * style.lane_width + random.uniform(-0.3, 0.3);
  st.sidewalk_outer = st.road_half_width + style.sidewalk_width * random.uniform(0.9, 1.1);
  st.back_setback = random.uniform(6, 20);
  st.left.line = st.road_center - st.sidewalk_outer;
  st.right.line = st.road_center + st.sidewalk_outer;
  st.left.front = make_row(style, random, Row::Front);
  st.left.back = make_row(style, random, Row::Back);
  st.right.front = make_row(style, random, Row::Front);
  st.right.back = make_row(style, random, Row::Back);

  const bool closed = random.chance(0.45);
  st.end_z = closed ? random.uniform(60, 200) : kInfinity;
  st.end_height = random.uniform(10, 40);
  st.end_color = random.pick(style.facade_palette);
  st.crosswalk_z = random.chance(0.35) ? random.uniform(8, 35) : -1;
  st.dash_phase = random.uniform(0, 9);
  st.sun_side = random.chance(0.5) ? -1 : 1;
  st.lit = float(1 + style.sun_strength * 0.5);
  st.shaded = float(1 - style.sun_strength);
  st.shadow_per_metre = float(random.uniform(0.2, 0.9));
  st.zenith = style.zenith * float(random.uniform(0.95, 1.05));
  st.horizon = style.horizon * float(random.uniform(0.97, 1.03));
  st.texture = random.noise_seed();
  return st;
}

void render_street(const Street& street, Canvas& canvas) {
  const Camera& cam = street.camera;
  for (int y = 0; y < canvas.height; ++y)
    for (int x = 0; x < canvas.width; ++x) {
      const double dx = (x + 0.5 - cam.center_x) / cam.focal, dy = (y + 0.5 - cam.horizon_y) / cam.focal;
      const double ground_z = dy > 0 ? cam.height / dy : kInfinity;
      const StreetSide& side = dx < 0 ? street.left : street.right;
      const double outward = dx < 0 ? -street.back_setback : street.back_setback;
      const double front_z = dx != 0 ? side.line / dx : kInfinity;
      const double back_z = dx != 0 ? (side.line + outward) / dx : kInfinity;
      // The right façades face the sun when it is on the left, and the other way round.
      const float light = (dx < 0) == (street.sun_side < 0) ? street.shaded : street.lit;
      const bool below_horizon = dy > 0;  // only these rays meet the ground (at a finite distance)
      Paint p;
      double depth = kInfinity;
      if (below_horizon && ground_z <= std::min(front_z, street.end_z)) {
        p = street_ground(street, dx * ground_z, ground_z);
        depth = ground_z;
      } else if (front_z < street.end_z &&
                 (p = paint_row(street, side.front, front_z, cam.height - dy * front_z, light)).hit) {
        depth = front_z;
      } else if (below_horizon && ground_z <= std::min(back_z, street.end_z)) {
        p = vegetation(street.style.grass_color, dx * ground_z, ground_z, street.texture + 4);
        depth = ground_z;
      } else if (back_z < street.end_z &&
                 (p = paint_row(street, side.back, back_z, cam.height - dy * back_z, light)).hit) {
        depth = back_z;
      } else if (below_horizon && ground_z <= street.end_z) {
        p = vegetation(street.style.grass_color, dx * ground_z, ground_z, street.texture + 4);
        depth = ground_z;
      } else if (std::isfinite(street.end_z) && cam.height - dy * street.end_z <= street.end_height) {
        p = facade(street.end_color, street.style.window_color, dx * street.end_z + 100, cam.height - dy * street.end_z,
                   street.end_height, street.texture + 6, street.style);
        p.color = p.color * ((street.lit + street.shaded) / 2);
        depth = street.end_z;
      } else {
        p = sky(street, x, y);
      }
      canvas.put(x, y, p.cls, p.color, float(depth));
    }
}

}  // namespace pans::scenes
