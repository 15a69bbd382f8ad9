#include "data/scenes/anomalies.h"

#include <algorithm>
#include <cmath>

#include "data/classes.h"

namespace pans::scenes {
namespace {

constexpr double kPi = 3.14159265358979323846;

const std::vector<Color> kKnownClassColors = {{95, 95, 100},   {70, 110, 45},   {170, 30, 30},   {30, 60, 150},
                                              {200, 190, 170}, {165, 165, 160}, {120, 160, 215}, {225, 225, 222}};
const std::vector<Color> kUnusualColors = {{210, 40, 180}, {40, 210, 220}, {245, 120, 20},
                                           {120, 40, 170}, {170, 235, 40}, {255, 105, 180}};

double width_factor(AnomalyShape shape) { return shape == AnomalyShape::Animal ? 1.4 : 1.0; }

// Roughly the share of the bounding box a shape covers: the first guess of the area control.
double fill_factor(AnomalyShape shape) {
  switch (shape) {
    case AnomalyShape::Star:
      return 0.45;
    case AnomalyShape::Ring:
      return 0.45;
    case AnomalyShape::Animal:
      return 0.3;
    case AnomalyShape::Blob:
      return 0.5;
    case AnomalyShape::Crescent:
      return 0.35;
    case AnomalyShape::Cross:
      return 0.36;
  }
  return 0.4;
}

double segment_distance(double p, double q, double p0, double q0, double p1, double q1) {
  const double dp = p1 - p0, dq = q1 - q0;
  const double t = std::clamp(((p - p0) * dp + (q - q0) * dq) / (dp * dp + dq * dq), 0.0, 1.0);
  return std::hypot(p - p0 - t * dp, q - q0 - t * dq);
}

// Is (p, q) inside the shape? p across (centred), q up, both in units of the size; centre (0, 0.5).
bool inside(const Anomaly& a, double p, double q) {
  const double dp = p, dq = q - 0.5, radius = std::hypot(dp, dq), angle = std::atan2(dq, dp);
  switch (a.shape) {
    case AnomalyShape::Star:
      return radius < 0.5 * (0.55 + 0.45 * std::cos(a.spikes * (angle - a.rotation)));
    case AnomalyShape::Ring:
      return radius < 0.5 && radius > 0.5 * a.inner;
    case AnomalyShape::Animal: {
      const double x = a.mirrored ? -p : p;
      if (std::hypot(x / 0.45, (q - 0.58) / 0.2) < 1) return true;  // body
      for (double leg : {-0.35, -0.2, 0.2, 0.35})
        if (std::abs(x - leg) < 0.035 && q < 0.6) return true;                 // legs
      if (segment_distance(x, q, 0.38, 0.65, 0.52, 0.9) < 0.045) return true;  // neck
      if (std::hypot((x - 0.58) / 0.12, (q - 0.93) / 0.07) < 1) return true;   // head
      return segment_distance(x, q, -0.45, 0.68, -0.6, 0.45) < 0.015;          // tail
    }
    case AnomalyShape::Blob:
      for (const auto& blob : a.blobs)
        if (std::hypot(p - blob[0], q - blob[1]) < blob[2]) return true;
      return false;
    case AnomalyShape::Crescent:
      return radius < 0.5 && std::hypot(dp - 0.22 * std::cos(a.rotation), dq - 0.22 * std::sin(a.rotation)) > 0.4;
    case AnomalyShape::Cross: {
      const double c = std::cos(a.rotation), s = std::sin(a.rotation);
      const double along = dp * c + dq * s, across = -dp * s + dq * c;
      return (std::abs(along) < 0.5 && std::abs(across) < 0.1) || (std::abs(across) < 0.5 && std::abs(along) < 0.1);
    }
  }
  return false;
}

Color texture_at(const Anomaly& a, double p, double q) {
  const double period = a.period;
  bool second = false;
  switch (a.texture) {
    case AnomalyTexture::Checker:
      second = (int(std::floor(p / period)) + int(std::floor(q / period))) % 2 != 0;
      break;
    case AnomalyTexture::Stripes: {
      const double t = p * std::cos(a.rotation) + q * std::sin(a.rotation);
      second = t - period * std::floor(t / period) < period / 2;
      break;
    }
    case AnomalyTexture::Dots: {
      const double cp = p - period * std::round(p / period), cq = q - period * std::round(q / period);
      second = std::hypot(cp, cq) < period * 0.3;
      break;
    }
    case AnomalyTexture::Rings: {
      const double r = std::hypot(p, q - 0.5);
      second = r - period * std::floor(r / period) < period / 2;
      break;
    }
    case AnomalyTexture::Speckle:
      return a.first * (0.6f + 0.8f * lattice_value(int(std::floor(p * 40)), int(std::floor(q * 40)), a.seed));
  }
  return second ? a.second : a.first;
}

}  // namespace

Anomaly make_anomaly(const Street& street, SceneRandom& random, double target_pixels) {
  Anomaly a;
  a.shape = AnomalyShape(random.integer(0, 5));
  a.texture = AnomalyTexture(random.integer(0, 4));
  a.first = random.chance(0.5) ? random.pick(kKnownClassColors) : random.pick(kUnusualColors);
  a.second = random.chance(0.5) ? random.pick(kKnownClassColors) : a.first * 0.45f;
  a.rotation = random.uniform(0, 2 * kPi);
  a.period = random.uniform(0.1, 0.22);
  a.inner = random.uniform(0.4, 0.7);
  a.spikes = random.integer(4, 9);
  a.mirrored = random.chance(0.5);
  for (auto& blob : a.blobs) blob = {random.uniform(-0.3, 0.3), random.uniform(0.25, 0.75), random.uniform(0.12, 0.25)};
  a.seed = random.noise_seed();

  const Camera& cam = street.camera;
  const double fill = fill_factor(a.shape) * width_factor(a.shape);
  const double far = std::max(6.0, std::min(45.0, street.end_z - 3));
  // Distance from a plausible size, then the size that gives the target area at that distance.
  a.z = std::clamp(random.uniform(0.8, 2.4) * cam.focal * std::sqrt(fill / target_pixels), 4.0, far);
  a.size = std::sqrt(target_pixels / fill) * a.z / cam.focal;
  const bool on_road = random.chance(0.7);
  const double edge = on_road ? street.road_half_width - 0.5 : street.sidewalk_outer - 0.5;
  const double side = random.chance(0.5) ? -1 : 1;
  const double offset =
      on_road ? random.uniform(-edge, edge) : side * random.uniform(street.road_half_width + 0.5, edge);
  a.x = street.road_center + offset;
  const bool floats =
      a.shape == AnomalyShape::Star || a.shape == AnomalyShape::Ring || a.shape == AnomalyShape::Crescent;
  a.lift = floats ? random.uniform(0, 0.8) : 0;
  return a;
}

SceneObject anomaly_object(const Anomaly& anomaly, const Camera& camera, double scale) {
  return {anomaly.z, [anomaly, camera, scale](Canvas& canvas) {
            const double size = anomaly.size * scale, half = size * width_factor(anomaly.shape) / 2;
            paint_billboard(canvas, camera, anomaly.x, anomaly.z, -half, half, anomaly.lift, anomaly.lift + size,
                            [&](double u, double v) {
                              const double p = u / size, q = (v - anomaly.lift) / size;
                              if (!inside(anomaly, p, q)) return Paint{};
                              const float light = 0.85f + 0.25f * float(q);
                              return paint(streethazards::kAnomaly, texture_at(anomaly, p, q) * light);
                            });
          }};
}

}  // namespace pans::scenes
