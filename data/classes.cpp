#include "data/classes.h"

#include "tensor/error.h"

namespace pans::streethazards {
namespace {

struct ClassInfo {
  const char* name;
  Rgb color;
};

constexpr ClassInfo kClasses[kAnomaly + 1] = {
    {"unlabeled", {0, 0, 0}},        {"building", {70, 70, 70}},    {"fence", {190, 153, 153}},
    {"other", {250, 170, 160}},      {"pedestrian", {220, 20, 60}}, {"pole", {153, 153, 153}},
    {"road line", {157, 234, 50}},   {"road", {128, 64, 128}},      {"sidewalk", {244, 35, 232}},
    {"vegetation", {107, 142, 35}},  {"car", {0, 0, 142}},          {"wall", {102, 102, 156}},
    {"traffic sign", {220, 220, 0}}, {"anomaly", {60, 250, 240}},
};
constexpr Rgb kIgnoreColor = {255, 255, 255};

}  // namespace

const char* class_name(int id) {
  if (id == kIgnore) return "ignore";
  PANS_CHECK(id >= 0 && id <= kAnomaly, "class_name: no StreetHazards class has id ", id);
  return kClasses[id].name;
}

Rgb class_color(int id) {
  if (id == kIgnore) return kIgnoreColor;
  PANS_CHECK(id >= 0 && id <= kAnomaly, "class_color: no StreetHazards class has id ", id);
  return kClasses[id].color;
}

void decode_label_values(Image& label, const std::string& path) {
  PANS_CHECK(label.channels == 1, path, ": a label map has 1 channel, not ", label.channels);
  for (std::size_t i = 0; i < label.pixels.size(); ++i) {
    const std::uint8_t value = label.pixels[i];
    if (value > kMaxPngValue)
      PANS_FAIL(path, ": label value ", int(value), " at row ", std::int64_t(i) / label.width, " column ",
                std::int64_t(i) % label.width, " is out of range (StreetHazards labels are 0..", int(kMaxPngValue),
                ")");
    label.pixels[i] = std::uint8_t(value - 1);
  }
}

Image colorize(const Image& class_ids) {
  PANS_CHECK(class_ids.channels == 1, "colorize: class ids have 1 channel, not ", class_ids.channels);
  Image rgb(class_ids.height, class_ids.width, 3);
  for (std::size_t i = 0; i < class_ids.pixels.size(); ++i) {
    const Rgb color = class_color(class_ids.pixels[i]);
    rgb.pixels[3 * i] = color.r;
    rgb.pixels[3 * i + 1] = color.g;
    rgb.pixels[3 * i + 2] = color.b;
  }
  return rgb;
}

}  // namespace pans::streethazards
