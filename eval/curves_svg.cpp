#include "eval/curves_svg.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "data/atomic_file.h"
#include "tensor/error.h"

namespace pans {
namespace {

constexpr double kLeft = 70, kTop = 50, kSide = 420;  // the square plot area, in SVG pixels
constexpr double kWidth = kLeft + kSide + 30, kLegendLine = 20;
const char* const kColors[] = {"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

struct Series {
  std::string legend;
  std::vector<CurvePoint> points;
};

struct Plot {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool chance_diagonal = false;
};

// Coordinates and tick labels with one decimal; legend values with two.
std::string fixed(double value, int decimals = 1) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string svg_line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + fixed(x1) + "\" y1=\"" + fixed(y1) + "\" x2=\"" + fixed(x2) + "\" y2=\"" + fixed(y2) + "\" " +
         style + "/>\n";
}

std::string svg_text(double x, double y, const std::string& attributes, const std::string& text) {
  return "<text x=\"" + fixed(x) + "\" y=\"" + fixed(y) + "\" " + attributes + ">" + escaped(text) + "</text>\n";
}

double x_pixel(double x) { return kLeft + x * kSide; }
double y_pixel(double y) { return kTop + (1 - y) * kSide; }

// Thousands of bin edges land on the same pixel; points closer than a tenth of a pixel to the last
// one kept are dropped, the curve's last point never.
std::string polyline_points(const std::vector<CurvePoint>& points) {
  std::string text;
  double last_x = -1, last_y = -1;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const double x = x_pixel(points[i].x), y = y_pixel(points[i].y);
    if (i + 1 < points.size() && std::abs(x - last_x) < 0.1 && std::abs(y - last_y) < 0.1) continue;
    text += fixed(x, 2) + "," + fixed(y, 2) + " ";
    last_x = x;
    last_y = y;
  }
  return text;
}

// Grid, ticks and labels of the unit square.
std::string axes(const Plot& plot) {
  const double bottom = kTop + kSide, right = kLeft + kSide;
  std::string svg;
  for (int tick = 0; tick <= 5; ++tick) {
    const double value = tick / 5.0, x = x_pixel(value), y = y_pixel(value);
    svg += svg_line(x, kTop, x, bottom, "stroke=\"#e5e5e5\"") + svg_line(kLeft, y, right, y, "stroke=\"#e5e5e5\"");
    svg += svg_text(x, bottom + 18, "text-anchor=\"middle\"", fixed(value)) +
           svg_text(kLeft - 8, y + 4, "text-anchor=\"end\"", fixed(value));
  }
  svg += "<rect x=\"" + fixed(kLeft) + "\" y=\"" + fixed(kTop) + "\" width=\"" + fixed(kSide) + "\" height=\"" +
         fixed(kSide) + "\" fill=\"none\" stroke=\"black\"/>\n";
  svg += svg_text(kLeft + kSide / 2, bottom + 40, "text-anchor=\"middle\"", plot.x_label);
  svg +=
      svg_text(0, 0, "transform=\"translate(22," + fixed(kTop + kSide / 2) + ") rotate(-90)\" text-anchor=\"middle\"",
               plot.y_label);
  if (plot.chance_diagonal)
    svg += svg_line(x_pixel(0), y_pixel(0), x_pixel(1), y_pixel(1), "stroke=\"#999999\" stroke-dasharray=\"5,4\"");
  return svg;
}

std::string render(const Plot& plot) {
  const std::string width = fixed(kWidth, 0),
                    height = fixed(kTop + kSide + 60 + kLegendLine * double(plot.series.size()), 0);
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + width + "\" height=\"" + height +
                    "\" viewBox=\"0 0 " + width + " " + height + "\" font-family=\"sans-serif\" font-size=\"13\">\n";
  svg += "<rect width=\"" + width + "\" height=\"" + height + "\" fill=\"white\"/>\n";
  svg += svg_text(kLeft + kSide / 2, 28, "text-anchor=\"middle\" font-size=\"15\"", plot.title);
  svg += axes(plot);
  for (std::size_t i = 0; i < plot.series.size(); ++i) {
    const std::string color = kColors[i % (sizeof kColors / sizeof kColors[0])];
    svg += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.8\" points=\"" +
           polyline_points(plot.series[i].points) + "\"/>\n";
    const double y = kTop + kSide + 62 + kLegendLine * double(i);
    svg += svg_line(kLeft, y - 4, kLeft + 24, y - 4, "stroke=\"" + color + "\" stroke-width=\"3\"");
    svg += svg_text(kLeft + 32, y, "", plot.series[i].legend);
  }
  return svg + "</svg>\n";
}

}  // namespace

void write_curves_svg(const std::string& folder, const std::vector<AnomalyTableRow>& rows) {
  Plot roc{"ROC, pixels pooled over the test images", "false-positive rate", "true-positive rate (recall)", {}, true};
  Plot pr{"Precision-recall, pixels pooled over the test images", "recall", "precision", {}, false};
  for (const AnomalyTableRow& row : rows) {
    if (row.source != RowSource::Measured) continue;
    const PooledCurves curves = row.result.pooled.curves();
    const auto legend = [&](const char* metric, double per_image, double pooled) {
      return row.name + ": " + metric + " " + fixed(per_image, 2) + " (per-image mean), pooled " +
             fixed(100 * pooled, 2);
    };
    roc.series.push_back({legend("AUROC", row.result.auroc, curves.auroc), curves.roc});
    pr.series.push_back({legend("AUPR", row.result.aupr, curves.average_precision), curves.pr});
  }
  PANS_CHECK(!roc.series.empty(), folder, ": no measured results to draw");
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  PANS_CHECK(!error, folder, ": cannot create the folder (", error.message(), ")");
  write_file_atomically((std::filesystem::path(folder) / "roc.svg").string(), render(roc));
  write_file_atomically((std::filesystem::path(folder) / "precision_recall.svg").string(), render(pr));
}

}  // namespace pans
