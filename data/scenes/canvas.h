// The render target of the scene generator and the pinhole camera that projects the street onto it.
//
// World coordinates in metres: X to the right, Y up from the road surface, Z forward from the
// camera. Colours are linear-ish floats in 0..255 until the final quantisation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace pans::scenes {

struct Color {
  float r = 0, g = 0, b = 0;
};

inline Color operator*(Color c, float k) { return {c.r * k, c.g * k, c.b * k}; }
inline Color operator+(Color a, Color b) { return {a.r + b.r, a.g + b.g, a.b + b.b}; }
inline Color mix(Color a, Color b, float t) { return a * (1 - t) + b * t; }

struct Camera {
  double focal;      // pixels per metre at Z = 1 m
  double center_x;   // the column of the vanishing point
  double horizon_y;  // the row of the horizon
  double height;     // metres above the road

  double screen_x(double x, double z) const { return center_x + focal * x / z; }
  double screen_y(double y, double z) const { return horizon_y + focal * (height - y) / z; }
  double pixels_per_metre(double z) const { return focal / z; }
};

// What a pixel shows: its class, its colour and the distance along Z (for haze).
struct Canvas {
  int width, height;
  std::vector<std::uint8_t> label;
  std::vector<Color> color;
  std::vector<float> depth;

  Canvas(int width, int height)
      : width(width),
        height(height),
        label(std::size_t(width) * std::size_t(height), 0),
        color(std::size_t(width) * std::size_t(height)),
        depth(std::size_t(width) * std::size_t(height), std::numeric_limits<float>::infinity()) {}

  void put(int x, int y, std::uint8_t cls, Color c, float z) {
    const std::size_t i = std::size_t(y) * std::size_t(width) + std::size_t(x);
    label[i] = cls;
    color[i] = c;
    depth[i] = z;
  }
};

// What a shape function says about one point: nothing, or a class and a colour.
struct Paint {
  bool hit = false;
  std::uint8_t cls = 0;
  Color color;
};

inline Paint paint(std::uint8_t cls, Color color) { return {true, cls, color}; }

// Paints a camera-facing flat object standing at ground point (x, z): `shape(u, v)` is asked for
// every pixel centre inside the local box [u0, u1] x [v0, v1] (metres: u to the right of x, v up
// from the ground). Later calls paint over earlier ones: callers draw far objects first.
template <class Shape>
void paint_billboard(Canvas& canvas, const Camera& camera, double x, double z, double u0, double u1, double v0,
                     double v1, Shape shape) {
  const double scale = camera.pixels_per_metre(z);
  const double cx = camera.screen_x(x, z), base = camera.screen_y(0, z);
  const int x0 = std::max(0, int(std::floor(cx + u0 * scale))),
            x1 = std::min(canvas.width, int(std::ceil(cx + u1 * scale)));
  const int y0 = std::max(0, int(std::floor(base - v1 * scale))),
            y1 = std::min(canvas.height, int(std::ceil(base - v0 * scale)));
  for (int py = y0; py < y1; ++py)
    for (int px = x0; px < x1; ++px) {
      const double u = (px + 0.5 - cx) / scale, v = (base - (py + 0.5)) / scale;
      if (u < u0 || u > u1 || v < v0 || v > v1) continue;
      const Paint p = shape(u, v);
      if (p.hit) canvas.put(px, py, p.cls, p.color, float(z));
    }
}

// Paints the part y0 <= y < y1, z0 <= z < z1 of the vertical plane X = plane_x (a face parallel to
// the street); `pattern(z, y)` gives the paint of each point it covers, so see-through patterns
// (railings) leave the pixels behind them alone.
template <class Pattern>
void paint_side_plane(Canvas& canvas, const Camera& camera, double plane_x, double z0, double z1, double y0, double y1,
                      Pattern pattern) {
  const double sx0 = camera.screen_x(plane_x, z0), sx1 = camera.screen_x(plane_x, z1);
  const int x0 = std::max(0, int(std::floor(std::min(sx0, sx1)))),
            x1 = std::min(canvas.width, int(std::ceil(std::max(sx0, sx1))));
  const int ytop = std::max(0, int(std::floor(std::min(camera.screen_y(y1, z0), camera.screen_y(y1, z1)))));
  const int ybottom =
      std::min(canvas.height, int(std::ceil(std::max(camera.screen_y(y0, z0), camera.screen_y(y0, z1)))));
  for (int px = x0; px < x1; ++px) {
    const double ray = (px + 0.5 - camera.center_x) / camera.focal;  // X per metre of Z along this column
    const double z = ray != 0 ? plane_x / ray : -1;
    if (z < z0 || z >= z1) continue;
    for (int py = ytop; py < ybottom; ++py) {
      const double y = camera.height - (py + 0.5 - camera.horizon_y) * z / camera.focal;
      if (y < y0 || y >= y1) continue;
      const Paint p = pattern(z, y);
      if (p.hit) canvas.put(px, py, p.cls, p.color, float(z));
    }
  }
}

struct Point3 {
  double x, y, z;
};

// Paints the convex quadrilateral with world corners `corners` (in order around it, all in front of
// the camera); `shade(px, py)` gives the paint of each covered pixel.
template <class Shade>
void paint_quad(Canvas& canvas, const Camera& camera, const Point3 (&corners)[4], Shade shade) {
  double sx[4], sy[4], depth = corners[0].z;
  for (int i = 0; i < 4; ++i) {
    sx[i] = camera.screen_x(corners[i].x, corners[i].z);
    sy[i] = camera.screen_y(corners[i].y, corners[i].z);
    depth = std::min(depth, corners[i].z);
  }
  double twice_area = 0;  // an edge-on face covers nothing (and would fool the side test below)
  for (int i = 0; i < 4; ++i) twice_area += sx[i] * sy[(i + 1) % 4] - sx[(i + 1) % 4] * sy[i];
  if (std::abs(twice_area) < 1.0) return;
  const int x0 = std::max(0, int(std::floor(*std::min_element(sx, sx + 4))));
  const int x1 = std::min(canvas.width, int(std::ceil(*std::max_element(sx, sx + 4))));
  const int y0 = std::max(0, int(std::floor(*std::min_element(sy, sy + 4))));
  const int y1 = std::min(canvas.height, int(std::ceil(*std::max_element(sy, sy + 4))));
  for (int py = y0; py < y1; ++py)
    for (int px = x0; px < x1; ++px) {
      // Inside a convex polygon: the pixel centre is on the same side of every edge.
      int positive = 0, negative = 0;
      for (int i = 0; i < 4; ++i) {
        const int j = (i + 1) % 4;
        const double cross = (sx[j] - sx[i]) * (py + 0.5 - sy[i]) - (sy[j] - sy[i]) * (px + 0.5 - sx[i]);
        positive += cross > 0;
        negative += cross < 0;
      }
      if (positive > 0 && negative > 0) continue;
      const Paint p = shade(px, py);
      if (p.hit) canvas.put(px, py, p.cls, p.color, float(depth));
    }
}

}  // namespace pans::scenes
