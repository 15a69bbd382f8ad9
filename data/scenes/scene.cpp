#include "data/scenes/scene.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "data/classes.h"
#include "data/rng_streams.h"
#include "data/scenes/anomalies.h"
#include "data/scenes/objects.h"
#include "data/scenes/street.h"
#include "data/scenes/town.h"
#include "tensor/error.h"

namespace pans::scenes {
namespace {

// Purposes of an image's Philox streams; anomaly attempt k uses kAnomalyAttempts + k.
enum StreamPurpose { kLayout = 0, kFinish = 1, kAnomalyPlan = 2, kAnomalyAttempts = 3 };
constexpr int kMaxAnomalyAttempts = 40, kMaxRefinements = 6;

std::uint64_t image_stream(Split split, std::int64_t index, int purpose) {
  return data_stream(DataStream::Scene, purpose * 4 + int(split), index);
}

void draw_all(Canvas& canvas, std::vector<SceneObject> objects) {
  std::stable_sort(objects.begin(), objects.end(),
                   [](const SceneObject& a, const SceneObject& b) { return a.z > b.z; });
  for (const SceneObject& object : objects) object.draw(canvas);
}

double anomaly_share(const Canvas& canvas) {
  const auto count = std::count(canvas.label.begin(), canvas.label.end(), streethazards::kAnomaly);
  return double(count) / double(canvas.label.size());
}

// Anomalies whose total area is steered into [1 %, 5 %] of the image: each attempt places 1-3 of
// them for a target share, then rescales them until the share (after occlusion by nearer objects
// and clipping at the border) lands inside the band; an attempt whose anomalies are hidden is
// replaced by a new placement.
Canvas with_anomalies(const Canvas& background, const std::vector<SceneObject>& objects, const Street& street,
                      const SceneConfig& config, Split split, std::int64_t index) {
  SceneRandom plan(config.seed, image_stream(split, index, kAnomalyPlan));
  const double target = plan.uniform(0.015, 0.045);
  const int count = plan.integer(1, 3);
  const double pixels = double(config.width) * double(config.height);
  for (int attempt = 0; attempt < kMaxAnomalyAttempts; ++attempt) {
    SceneRandom random(config.seed, image_stream(split, index, kAnomalyAttempts + attempt));
    std::vector<double> weights;
    for (int i = 0; i < count; ++i) weights.push_back(random.uniform(0.5, 1.5));
    const double weight_sum = std::accumulate(weights.begin(), weights.end(), 0.0);
    std::vector<Anomaly> anomalies;
    for (double weight : weights)
      anomalies.push_back(make_anomaly(street, random, target * pixels * weight / weight_sum));
    double scale = 1;
    for (int refinement = 0; refinement < kMaxRefinements; ++refinement) {
      Canvas canvas = background;
      std::vector<SceneObject> all = objects;
      for (const Anomaly& anomaly : anomalies) all.push_back(anomaly_object(anomaly, street.camera, scale));
      draw_all(canvas, std::move(all));
      const double share = anomaly_share(canvas);
      if (share > kMinAnomalyShare * 1.1 && share < kMaxAnomalyShare * 0.98) return canvas;
      if (share == 0) break;
      scale *= std::clamp(std::sqrt(target / share), 0.5, 2.0);
    }
  }
  PANS_FAIL("scene generator: no placement of anomalies covers 1-5 % of test image ", index, " (seed ", config.seed,
            ")");
}

// Haze, a slight blur, exposure, white balance, vignetting and sensor noise; then 8 bits.
Image finish(const Canvas& canvas, const Street& street, const SceneConfig& config, Split split, std::int64_t index) {
  SceneRandom random(config.seed, image_stream(split, index, kFinish));
  const float exposure = float(random.uniform(0.82, 1.12)), warmth = float(random.uniform(-0.05, 0.05));
  const float vignette = float(random.uniform(0, 0.3)), noise = float(random.uniform(1.5, 4.5));
  const std::uint32_t noise_seed = random.noise_seed();
  const int w = canvas.width, h = canvas.height;

  std::vector<Color> hazed(canvas.color.size());
  for (std::size_t i = 0; i < hazed.size(); ++i) {
    const float depth = canvas.depth[i];
    const float haze = std::isfinite(depth) ? 0.85f * (1 - std::exp(-depth / float(street.style.visibility))) : 0.0f;
    hazed[i] = mix(canvas.color[i], street.horizon, haze);
  }
  Image rgb(h, w, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const auto at = [&](int yy, int xx) {
        return hazed[std::size_t(std::clamp(yy, 0, h - 1)) * std::size_t(w) + std::size_t(std::clamp(xx, 0, w - 1))];
      };
      Color c = at(y, x) * 0.5f + (at(y - 1, x) + at(y + 1, x) + at(y, x - 1) + at(y, x + 1)) * 0.125f;
      const float dx = (x + 0.5f) / float(w) - 0.5f, dy = (y + 0.5f) / float(h) - 0.5f;
      const float gain = exposure * (1 - vignette * 2 * (dx * dx + dy * dy));
      c = {c.r * gain * (1 + warmth), c.g * gain, c.b * gain * (1 - warmth)};
      const float channels[3] = {c.r, c.g, c.b};
      for (int k = 0; k < 3; ++k) {
        // Two uniforms summed: a bell-shaped error of standard deviation `noise`.
        const float u1 = lattice_value(x, 3 * y + k, noise_seed), u2 = lattice_value(x, 3 * y + k, noise_seed + 1);
        const float value = channels[k] + (u1 + u2 - 1) * 2.449f * noise;
        rgb.at(y, x, k) = std::uint8_t(std::clamp(std::lround(value), 0L, 255L));
      }
    }
  return rgb;
}

}  // namespace

RenderedScene render_scene(const SceneConfig& config, Split split, std::int64_t index) {
  PANS_CHECK(config.width >= 32 && config.height >= 32, "scene generator: images of at least 32x32, not ", config.width,
             "x", config.height);
  const TownStyle style = make_town(config.seed, scene_town(split, index));
  SceneRandom random(config.seed, image_stream(split, index, kLayout));
  const Street street = make_street(style, random, config.width, config.height);
  const std::vector<SceneObject> objects = populate_street(street, random);

  Canvas canvas(config.width, config.height);
  render_street(street, canvas);
  if (split == Split::Test) {
    canvas = with_anomalies(canvas, objects, street, config, split, index);
  } else {
    draw_all(canvas, objects);
  }

  RenderedScene scene{finish(canvas, street, config, split, index), Image(config.height, config.width, 1)};
  for (std::size_t i = 0; i < canvas.label.size(); ++i) scene.label_png.pixels[i] = std::uint8_t(canvas.label[i] + 1);
  return scene;
}

}  // namespace pans::scenes
