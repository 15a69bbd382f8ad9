#include "data/scenes/objects.h"

#include <algorithm>
#include <cmath>

#include "data/classes.h"

namespace pans::scenes {
namespace sh = pans::streethazards;
namespace {

const std::vector<Color> kCarPaints = {{225, 225, 222}, {35, 35, 38}, {175, 178, 182}, {110, 112, 115}, {170, 30, 30},
                                       {30, 60, 150},   {30, 80, 50}, {220, 180, 40},  {190, 170, 130}, {25, 35, 80}};
const std::vector<Color> kClothes = {{30, 35, 60},   {40, 40, 42},    {90, 60, 40},  {150, 150, 155}, {180, 40, 40},
                                     {40, 110, 170}, {220, 220, 215}, {60, 120, 60}, {200, 160, 60},  {120, 60, 130}};
const std::vector<Color> kSkins = {{235, 200, 170}, {205, 160, 120}, {160, 110, 75}, {100, 70, 50}};
const std::vector<Color> kHair = {{30, 25, 20}, {90, 60, 35}, {200, 170, 110}, {140, 140, 140}};
const std::vector<Color> kClutterColors = {{50, 110, 60},  {90, 95, 100}, {40, 70, 140},   {220, 120, 30},
                                           {150, 110, 70}, {170, 40, 40}, {200, 200, 190}, {110, 80, 50}};

Paint textured(std::uint8_t cls, Color c, int px, int py, std::uint32_t texture) {
  return paint(cls, c * (0.94f + 0.12f * lattice_value(px, py, texture)));
}

// --- cars -------------------------------------------------------------------------------------

struct Car {
  double x, z, width, length, body_height, cabin_height;
  bool oncoming;  // facing the camera: headlights instead of tail lights
  Color paint;
  std::uint32_t texture;
};

void draw_car(Canvas& canvas, const Camera& cam, const Car& car) {
  const double x0 = car.x - car.width / 2, x1 = car.x + car.width / 2, z0 = car.z, z1 = car.z + car.length;
  const double body_bottom = 0.3, body_top = body_bottom + car.body_height, cabin_top = body_top + car.cabin_height;
  const Color tire{25, 25, 28};
  for (double wz : {z0 + 0.6, z1 - 1.2})
    for (double wx : {x0 + 0.04, x1 - 0.26})
      paint_box(canvas, cam, {wx, wx + 0.22, 0, 0.62, wz, wz + 0.6}, sh::kCar, tire, car.texture);
  paint_box(canvas, cam, {x0, x1, body_bottom, body_top, z0, z1}, sh::kCar, car.paint, car.texture);
  const Box cabin{x0 + 0.12, x1 - 0.12, body_top, cabin_top, z0 + 0.9, z1 - 0.8};
  paint_box(canvas, cam, cabin, sh::kCar, car.paint, car.texture);
  // The near window of the cabin and the lights, as slightly nearer quads.
  const double wz = cabin.z0 - 0.01;
  const Point3 window[4] = {{cabin.x0 + 0.1, cabin.y0 + 0.08, wz},
                            {cabin.x1 - 0.1, cabin.y0 + 0.08, wz},
                            {cabin.x1 - 0.16, cabin.y1 - 0.06, wz},
                            {cabin.x0 + 0.16, cabin.y1 - 0.06, wz}};
  paint_quad(canvas, cam, window, [&](int px, int py) {
    return textured(sh::kCar, {50, 60, 75}, px, py, car.texture);
  });
  const Color light = car.oncoming ? Color{235, 230, 200} : Color{190, 30, 25};
  for (double lx : {x0 + 0.08, x1 - 0.33}) {
    const double lz = z0 - 0.01, ly = body_top - 0.25;
    const Point3 lamp[4] = {{lx, ly, lz}, {lx + 0.25, ly, lz}, {lx + 0.25, ly + 0.14, lz}, {lx, ly + 0.14, lz}};
    paint_quad(canvas, cam, lamp, [&](int, int) { return paint(sh::kCar, light); });
  }
}

// --- people and thin things ---------------------------------------------------------------------

struct Pedestrian {
  double x, z, height, shoulders, stride;
  Color trousers, shirt, skin, hair;
  bool bag;
};

Paint pedestrian_at(const Pedestrian& p, double u, double v) {
  const double k = p.height / 1.75;  // body proportions of a 1.75 m person, scaled
  v /= k;
  u /= k;
  if (v < 0.85) {  // legs, spread by the stride at the feet
    const double spread = p.stride * (0.85 - v) / 0.85;
    const bool left = u > -0.17 - spread && u<-0.02 - spread, right = u> 0.02 + spread && u < 0.17 + spread;
    if (!left && !right) return {};
    return paint(sh::kPedestrian, v < 0.07 ? Color{30, 28, 26} : p.trousers);
  }
  const double half = p.shoulders / 2 * (0.8 + 0.2 * std::min(1.0, (v - 0.85) / 0.5));
  if (v < 1.45 && std::abs(u) < half) return paint(sh::kPedestrian, p.shirt);
  if (v > 0.8 && v < 1.42 && std::abs(u) >= half && std::abs(u) < half + 0.08)  // arms, hands below the sleeves
    return paint(sh::kPedestrian, v < 0.92 ? p.skin : p.shirt);
  if (p.bag && v > 0.9 && v < 1.35 && u > half + 0.08 && u < half + 0.3) return paint(sh::kPedestrian, {70, 45, 30});
  if (v >= 1.45 && v < 1.53 && std::abs(u) < 0.05) return paint(sh::kPedestrian, p.skin);
  const double head = std::hypot(u, v - 1.63);
  if (head < 0.11) return paint(sh::kPedestrian, v > 1.66 ? p.hair : p.skin);
  return {};
}

struct Lamp {
  double x, z, height, half_width, arm;  // arm < 0 reaches left
  Color metal;
};

Paint lamp_at(const Lamp& l, double u, double v) {
  if (std::abs(u) < l.half_width && v < l.height) return paint(sh::kPole, l.metal * (u < 0 ? 1.1f : 0.85f));
  const double reach = u * (l.arm < 0 ? -1 : 1);
  if (reach >= 0 && reach < std::abs(l.arm) && v > l.height - 0.12 && v < l.height) return paint(sh::kPole, l.metal);
  if (std::abs(reach - std::abs(l.arm)) < 0.3 && v > l.height - 0.28 && v <= l.height - 0.12)
    return paint(sh::kPole, l.metal * 0.7f);  // the lamp head
  return {};
}

enum class SignShape { Circle, Triangle, InvertedTriangle, Diamond, Rectangle };

struct Sign {
  double x, z, pole_height, size;
  SignShape shape;
  Color rim, face;
  bool back;  // seen from behind: a grey plate
};

Paint sign_at(const Sign& s, double u, double v) {
  const double r = s.size / 2, du = u, dv = v - (s.pole_height + r);
  double inside = -1, rim = 0.15;  // inside > 0 on the plate, 1 at its centre; the outer `rim` band gets the rim colour
  switch (s.shape) {
    case SignShape::Circle:
      inside = 1 - std::hypot(du, dv) / r;
      break;
    case SignShape::Triangle:
    case SignShape::InvertedTriangle: {  // equilateral, circumradius r: distance to the nearest edge over the inradius
      const double t = s.shape == SignShape::Triangle ? dv : -dv;
      inside = 1 - std::max(-t, 0.866 * std::abs(du) + 0.5 * t) / (r / 2);
      rim = 0.3;
      break;
    }
    case SignShape::Diamond:
      inside = 1 - (std::abs(du) + std::abs(dv)) / r;
      break;
    case SignShape::Rectangle:
      inside = std::min(1 - std::abs(du) / (r * 1.4), 1 - std::abs(dv) / (r * 0.7));
      break;
  }
  if (inside > 0) return paint(sh::kTrafficSign, s.back ? Color{150, 150, 152} : inside < rim ? s.rim : s.face);
  if (std::abs(u) < 0.05 && v < s.pole_height + r) return paint(sh::kPole, {140, 140, 145});
  return {};
}

struct Tree {
  double x, z, trunk_height, trunk_half, crown_radius;
  Color bark, leaves;
  std::uint32_t texture;
};

Paint tree_at(const Tree& t, double u, double v) {
  const double cy = t.trunk_height + t.crown_radius * 0.8;
  const double angle = std::atan2(v - cy, u), distance = std::hypot(u, (v - cy) * 1.15);
  const double edge = t.crown_radius * (0.85 + 0.3 * value_noise(float(angle * 2 + 10), 0.5f, t.texture));
  if (distance < edge) {
    const float leaves = fractal_noise(float(u * 3), float(v * 3), t.texture + 1);
    return paint(sh::kVegetation, t.leaves * (0.6f + 0.7f * leaves));
  }
  if (std::abs(u) < t.trunk_half && v < cy) return paint(sh::kVegetation, t.bark * (u < 0 ? 1.1f : 0.85f));
  return {};
}

// --- clutter ------------------------------------------------------------------------------------

std::vector<Box> clutter_boxes(SceneRandom& random, double x, double z) {
  switch (random.integer(0, 5)) {
    case 0:
      return {{x - 0.3, x + 0.3, 0, 1.0, z, z + 0.6}};  // bin
    case 1: {                                           // bench along the street: legs, seat, back
      const double d = random.chance(0.5) ? 0.5 : -0.5;
      return {{x - 0.2, x + 0.2, 0, 0.45, z, z + 0.08},
              {x - 0.2, x + 0.2, 0, 0.45, z + 1.5, z + 1.58},
              {x - 0.25, x + 0.25, 0.42, 0.5, z, z + 1.6},
              {x + d * 0.5 - 0.04, x + d * 0.5 + 0.04, 0.5, 0.9, z, z + 1.6}};
    }
    case 2: {  // stacked crates
      std::vector<Box> crates;
      const double side = random.uniform(0.4, 0.8);
      const int count = random.integer(1, 3);
      for (int i = 0; i < count; ++i)
        crates.push_back({x - side / 2, x + side / 2, i * side, (i + 1) * side, z, z + side});
      return crates;
    }
    case 3:
      return {{x - 0.08, x + 0.08, 0, 0.9, z, z + 0.16}, {x - 0.08, x + 0.08, 0, 0.9, z + 1.5, z + 1.66}};  // bollards
    case 4:
      return {{x - 0.7, x + 0.7, 2.3, 2.45, z, z + 3.5},
              {x - 0.05, x + 0.05, 0, 2.3, z, z + 0.1},
              {x - 0.05, x + 0.05, 0, 2.3, z + 3.4, z + 3.5},
              {x - 0.7, x - 0.6, 0.2, 2.3, z, z + 3.5}};  // shelter
    default:
      return {{x - 0.45, x + 0.45, 0, random.uniform(1.2, 1.9), z, z + 0.6}};  // cabinet, vending machine
  }
}

// --- placement ----------------------------------------------------------------------------------

int count_for(SceneRandom& random, double per_100m, double metres) {
  const double mean = per_100m * metres / 100;
  return int(std::lround(mean * random.uniform(0.5, 1.5)));
}

}  // namespace

void paint_box(Canvas& canvas, const Camera& camera, const Box& b, std::uint8_t cls, Color color,
               std::uint32_t texture) {
  const auto shade = [&](float k) {
    return [cls, c = color * k, texture](int px, int py) { return textured(cls, c, px, py, texture); };
  };
  if (b.y1 < camera.height) {
    const Point3 top[4] = {{b.x0, b.y1, b.z0}, {b.x1, b.y1, b.z0}, {b.x1, b.y1, b.z1}, {b.x0, b.y1, b.z1}};
    paint_quad(canvas, camera, top, shade(1.12f));
  }
  if (b.x1 < 0 || b.x0 > 0) {
    const double x = b.x1 < 0 ? b.x1 : b.x0;
    const Point3 side[4] = {{x, b.y0, b.z0}, {x, b.y1, b.z0}, {x, b.y1, b.z1}, {x, b.y0, b.z1}};
    paint_quad(canvas, camera, side, shade(0.78f));
  }
  const Point3 front[4] = {{b.x0, b.y0, b.z0}, {b.x1, b.y0, b.z0}, {b.x1, b.y1, b.z0}, {b.x0, b.y1, b.z0}};
  paint_quad(canvas, camera, front, shade(1.0f));
}

std::vector<SceneObject> populate_street(const Street& st, SceneRandom& random) {
  const TownStyle& style = st.style;
  const Camera cam = st.camera;
  const double far = std::min(70.0, st.end_z - 4), road = st.road_half_width;
  std::vector<SceneObject> objects;
  const auto sidewalk_x = [&](double side, double inner, double outer) {
    return st.road_center + side * random.uniform(road + inner, st.sidewalk_outer - outer);
  };

  for (double side : {-1.0, 1.0}) {  // street lamps, every pole_spacing metres on both sides
    const double arm = random.chance(0.7) ? -side * random.uniform(1.0, 2.0) : 0;
    for (double z = random.uniform(3, style.pole_spacing + 3); z < far + 30; z += style.pole_spacing) {
      const Lamp lamp{
          st.road_center + side * (road + 0.45),           z, random.uniform(5.5, 8), random.uniform(0.1, 0.15), arm,
          Color{1, 1, 1} * float(random.uniform(100, 160))};
      objects.push_back({z, [lamp, cam](Canvas& c) {
                           paint_billboard(c, cam, lamp.x, lamp.z, -std::abs(lamp.arm) - 0.4, std::abs(lamp.arm) + 0.4,
                                           0, lamp.height, [&](double u, double v) { return lamp_at(lamp, u, v); });
                         }});
    }
  }
  if (style.tree_spacing > 0)
    for (double side : {-1.0, 1.0})
      for (double z = random.uniform(4, style.tree_spacing + 4); z < far + 30;
           z += style.tree_spacing * random.uniform(0.8, 1.2)) {
        const Tree tree{sidewalk_x(side, 1.2, 0.6),
                        z,
                        random.uniform(1.8, 3.0),
                        random.uniform(0.12, 0.2),
                        random.uniform(1.3, 2.8),
                        Color{95, 75, 55} * float(random.uniform(0.8, 1.1)),
                        style.leaf_color * float(random.uniform(0.85, 1.15)),
                        random.noise_seed()};
        const double reach = tree.crown_radius * 1.2;
        objects.push_back({z, [tree, cam, reach](Canvas& c) {
                             paint_billboard(c, cam, tree.x, tree.z, -reach, reach, 0, tree.trunk_height + reach * 2,
                                             [&](double u, double v) { return tree_at(tree, u, v); });
                           }});
      }

  const int signs = random.integer(2, 4);
  for (int i = 0; i < signs; ++i) {
    const double side = random.chance(0.7) ? 1.0 : -1.0;
    const Sign sign{st.road_center + side * (road + random.uniform(0.5, 1.0)),
                    random.uniform(5, std::max(6.0, far * 0.7)),
                    random.uniform(1.9, 2.6),
                    random.uniform(0.75, 1.1),
                    SignShape(random.integer(0, 4)),
                    random.pick(std::vector<Color>{{200, 30, 30}, {30, 80, 170}, {230, 190, 30}, {30, 130, 60}}),
                    random.pick(std::vector<Color>{{235, 235, 235}, {30, 80, 170}, {230, 190, 30}, {200, 30, 30}}),
                    random.chance(0.15)};
    objects.push_back({sign.z, [sign, cam](Canvas& c) {
                         paint_billboard(c, cam, sign.x, sign.z, -sign.size, sign.size, 0, sign.pole_height + sign.size,
                                         [&](double u, double v) { return sign_at(sign, u, v); });
                       }});
  }

  for (double side : {-1.0, 1.0}) {  // railings along the curb, in 2 m pieces so each sorts at its own depth
    if (!random.chance(style.curb_railing_chance)) continue;
    const double start = random.uniform(4, 30), end = start + random.uniform(8, 30);
    const double x = st.road_center + side * (road + 0.12);
    const Color color = random.chance(0.5) ? style.fence_color : Color{200, 200, 198};
    for (double z = start; z < std::min(end, far); z += 2) {
      objects.push_back({z, [x, z, color, cam](Canvas& c) {
                           paint_side_plane(c, cam, x, z, z + 2, 0, 1.0, [&](double along, double y) {
                             const double in_piece = along - z;
                             const bool post = in_piece<0.08, rail = y> 0.9 || std::abs(y - 0.5) < 0.04;
                             const bool bar = in_piece - 0.25 * std::floor(in_piece / 0.25) < 0.03;
                             return post || rail || bar ? paint(sh::kFence, color * (post ? 0.85f : 1.0f)) : Paint{};
                           });
                         }});
    }
  }

  const int cars = count_for(random, style.cars_per_100m, far);
  for (int i = 0; i < cars; ++i) {
    Car car;
    const bool parked = random.chance(0.45);
    const int lane = random.integer(0, style.lanes - 1);
    const double lateral =
        parked ? (random.chance(0.5) ? -1 : 1) * (road - 1.1) : -road + (lane + 0.5) * style.lane_width;
    car.x = st.road_center + lateral + random.uniform(-0.2, 0.2);
    car.z = random.uniform(std::abs(car.x) < 1.5 ? 8 : 4, std::max(9.0, far));
    car.width = random.uniform(1.65, 1.95);
    car.length = random.uniform(3.8, 4.8);
    car.body_height = random.uniform(0.55, 0.8);
    car.cabin_height = random.uniform(0.42, 0.62);
    car.oncoming = !parked && lateral < 0;
    car.paint = random.pick(kCarPaints) * float(random.uniform(0.85, 1.1));
    car.texture = random.noise_seed();
    objects.push_back({car.z, [car, cam](Canvas& c) { draw_car(c, cam, car); }});
  }

  const int people = std::max(1, count_for(random, style.pedestrians_per_100m, far));
  for (int i = 0; i < people; ++i) {
    Pedestrian p;
    const double side = random.chance(0.5) ? -1.0 : 1.0;
    p.x = random.chance(0.12) ? st.road_center + random.uniform(-road, road) : sidewalk_x(side, 0.5, 0.3);
    p.z = random.uniform(4, std::max(5.0, std::min(35.0, far)));
    p.height = random.uniform(1.5, 1.9);
    p.shoulders = random.uniform(0.38, 0.5);
    p.stride = random.uniform(-0.12, 0.12);
    p.trousers = random.pick(kClothes);
    p.shirt = random.pick(kClothes) * float(random.uniform(0.8, 1.15));
    p.skin = random.pick(kSkins);
    p.hair = random.pick(kHair);
    p.bag = random.chance(0.25);
    objects.push_back({p.z, [p, cam](Canvas& c) {
                         paint_billboard(c, cam, p.x, p.z, -0.6 * p.height / 1.75, 0.6 * p.height / 1.75, 0, p.height,
                                         [&](double u, double v) { return pedestrian_at(p, u, v); });
                       }});
  }

  const int clutter = std::max(1, count_for(random, style.clutter_per_100m, far));
  for (int i = 0; i < clutter; ++i) {
    const double side = random.chance(0.5) ? -1.0 : 1.0;
    const double x = sidewalk_x(side, 0.8, 0.9), z = random.uniform(4, std::max(5.0, std::min(50.0, far)));
    const std::vector<Box> boxes = clutter_boxes(random, x, z);
    const Color color = random.pick(kClutterColors);
    const std::uint32_t texture = random.noise_seed();
    objects.push_back({z, [boxes, color, texture, cam](Canvas& c) {
                         for (const Box& b : boxes) paint_box(c, cam, b, sh::kOther, color, texture);
                       }});
  }
  return objects;
}

}  // namespace pans::scenes
