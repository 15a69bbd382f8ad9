// The StreetHazards classes (docs/data_format.md#labels): 13 known classes with ids 0..12, the
// anomaly class 13 (test split only), 255 = ignore. Label PNGs store id + 1, so PNG 0 (never in the
// released annotations, but what padding writes) becomes 255 by uint8 wrap-around, as in PAnS.
#pragma once

#include <cstdint>
#include <string>

#include "data/image.h"

namespace pans::streethazards {

constexpr int kKnownClasses = 13;
constexpr std::uint8_t kUnlabeled = 0;  // sky and everything CARLA leaves unlabelled
constexpr std::uint8_t kBuilding = 1;
constexpr std::uint8_t kFence = 2;
constexpr std::uint8_t kOther = 3;
constexpr std::uint8_t kPedestrian = 4;
constexpr std::uint8_t kPole = 5;
constexpr std::uint8_t kRoadLine = 6;
constexpr std::uint8_t kRoad = 7;
constexpr std::uint8_t kSidewalk = 8;
constexpr std::uint8_t kVegetation = 9;
constexpr std::uint8_t kCar = 10;
constexpr std::uint8_t kWall = 11;
constexpr std::uint8_t kTrafficSign = 12;
constexpr std::uint8_t kAnomaly = 13;
constexpr std::uint8_t kIgnore = 255;
constexpr std::uint8_t kMaxPngValue = kAnomaly + 1;

struct Rgb {
  std::uint8_t r, g, b;
};

// "unlabeled", "building", ..., "anomaly" for ids 0..13, "ignore" for 255; throws for other ids.
const char* class_name(int id);
// The visualisation palette (docs/data_format.md#classes-and-palette) for ids 0..13; ignore
// (padding) is drawn white.
Rgb class_color(int id);

// PNG value -> class id, in place: v -> v - 1 with 0 -> 255. A value above 14 throws pans::Error
// naming `path`, the value and the pixel.
void decode_label_values(Image& label, const std::string& path);
// Class ids {H,W,1} -> palette colours {H,W,3}.
Image colorize(const Image& class_ids);

}  // namespace pans::streethazards
