#include "kernels/cpu_fast/conv2d.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu_fast/parallel.h"
#include "tensor/tensor.h"

namespace pans::cpu_fast {
namespace {

using cpu::gemm;
using cpu::Transpose;

// Column row p = oy*Wo + ox holds the taps (ky, kx, ci) in the weight's {kh, kw, in} order.
std::int64_t column_width(const Conv2dGeometry& g) { return g.kernel_height * g.kernel_width * g.in_channels; }

bool is_pointwise(const Conv2dGeometry& g) {
  return g.kernel_height == 1 && g.kernel_width == 1 && g.stride == 1 && g.padding == 0;
}

// One task's share: image `image`, output pixels [begin, end).
struct Task {
  std::int64_t image, begin, end;
};

// The tasks of a pass: every image cut into `parts` nearly equal pixel ranges (image-major).
struct Tasks {
  std::int64_t parts, rows_per_part, count;
  Tasks(const Conv2dGeometry& g, std::int64_t requested_parts) {
    const std::int64_t pixels = g.out_height * g.out_width;
    parts = std::max<std::int64_t>(1, std::min(requested_parts, pixels));
    rows_per_part = (pixels + parts - 1) / parts;
    count = g.batch * parts;
  }
  // The last part may end past the image's pixels: run_tasks clips it.
  Task operator[](std::int64_t t) const {
    return {t / parts, (t % parts) * rows_per_part, (t % parts + 1) * rows_per_part};
  }
};

// Enough pixel ranges per image that the batch's tasks cover every thread.
std::int64_t parts_for_threads(const Conv2dGeometry& g) {
  return std::max<std::int64_t>(1, (thread_count() + g.batch - 1) / g.batch);
}

// body(task, slot) over the tasks in parallel; slot = the task index, for its own scratch rows.
template <class Body>
void run_tasks(const Tasks& tasks, std::int64_t pixels, Body body) {
  parallel_tasks(tasks.count, [&](std::int64_t t) {
    Task task = tasks[t];
    task.end = std::min(task.end, pixels);
    if (task.begin < task.end) body(task, t);
  });
}

// Column rows [begin, end) of one image.
void image_to_columns(const Conv2dGeometry& g, const float* image, std::int64_t begin, std::int64_t end,
                      float* columns) {
  const std::int64_t width = column_width(g), cin = g.in_channels;
  for (std::int64_t p = begin; p < end; ++p) {
    const std::int64_t oy = p / g.out_width, ox = p % g.out_width;
    float* row = columns + (p - begin) * width;
    for (std::int64_t ky = 0; ky < g.kernel_height; ++ky) {
      const std::int64_t iy = oy * g.stride - g.padding + ky * g.dilation;
      for (std::int64_t kx = 0; kx < g.kernel_width; ++kx) {
        const std::int64_t ix = ox * g.stride - g.padding + kx * g.dilation;
        float* tap = row + (ky * g.kernel_width + kx) * cin;
        if (iy >= 0 && iy < g.in_height && ix >= 0 && ix < g.in_width)
          std::memcpy(tap, image + (iy * g.in_width + ix) * cin, std::size_t(cin) * sizeof(float));
        else
          std::fill(tap, tap + cin, 0.0f);
      }
    }
  }
}

// image += the column rows [0, pixels) scattered back to their taps.
void columns_to_image_add(const Conv2dGeometry& g, const float* columns, float* image) {
  const std::int64_t width = column_width(g), cin = g.in_channels;
  for (std::int64_t p = 0; p < g.out_height * g.out_width; ++p) {
    const std::int64_t oy = p / g.out_width, ox = p % g.out_width;
    for (std::int64_t ky = 0; ky < g.kernel_height; ++ky) {
      const std::int64_t iy = oy * g.stride - g.padding + ky * g.dilation;
      if (iy < 0 || iy >= g.in_height) continue;
      for (std::int64_t kx = 0; kx < g.kernel_width; ++kx) {
        const std::int64_t ix = ox * g.stride - g.padding + kx * g.dilation;
        if (ix < 0 || ix >= g.in_width) continue;
        const float* tap = columns + p * width + (ky * g.kernel_width + kx) * cin;
        float* pixel = image + (iy * g.in_width + ix) * cin;
        for (std::int64_t c = 0; c < cin; ++c) pixel[c] += tap[c];
      }
    }
  }
}

Tensor scratch(std::int64_t floats) { return Tensor::empty({std::max<std::int64_t>(floats, 1)}, DType::F32); }

}  // namespace

template <>
void conv2d_forward<float>(const Conv2dGeometry& g, const float* x, const float* w, const float* bias, float* y) {
  const std::int64_t pixels = g.out_height * g.out_width, width = column_width(g);
  const std::int64_t image_size = g.in_height * g.in_width * g.in_channels;
  const Tasks tasks(g, parts_for_threads(g));
  const bool pointwise = is_pointwise(g);
  Tensor columns = scratch(pointwise ? 0 : tasks.count * tasks.rows_per_part * width);
  float* column_rows = columns.data<float>();
  run_tasks(tasks, pixels, [&](const Task& task, std::int64_t slot) {
    const float* image = x + task.image * image_size;
    const std::int64_t rows = task.end - task.begin;
    const float* a = image + task.begin * g.in_channels;
    if (!pointwise) {
      float* own = column_rows + slot * tasks.rows_per_part * width;
      image_to_columns(g, image, task.begin, task.end, own);
      a = own;
    }
    float* out = y + (task.image * pixels + task.begin) * g.out_channels;
    gemm<float>(Transpose::No, Transpose::Yes, rows, g.out_channels, width, 1.0f, a, width, w, width, 0.0f, out,
                g.out_channels);
    if (bias != nullptr)
      for (std::int64_t p = 0; p < rows; ++p)
        for (std::int64_t co = 0; co < g.out_channels; ++co) out[p * g.out_channels + co] += bias[co];
  });
}

template <>
void conv2d_backward_input<float>(const Conv2dGeometry& g, const float* dy, const float* w, float* dx) {
  const std::int64_t pixels = g.out_height * g.out_width, width = column_width(g);
  const std::int64_t image_size = g.in_height * g.in_width * g.in_channels;
  if (is_pointwise(g)) {  // dx rows are the GEMM's own rows: any split writes disjoint memory
    run_tasks(Tasks(g, parts_for_threads(g)), pixels, [&](const Task& task, std::int64_t) {
      const std::int64_t offset = task.image * pixels + task.begin;
      gemm<float>(Transpose::No, Transpose::No, task.end - task.begin, width, g.out_channels, 1.0f,
                  dy + offset * g.out_channels, g.out_channels, w, width, 0.0f, dx + offset * width, width);
    });
    return;
  }
  const Tasks tasks(g, 1);
  Tensor columns = scratch(g.batch * pixels * width);
  float* column_rows = columns.data<float>();
  run_tasks(tasks, pixels, [&](const Task& task, std::int64_t slot) {
    float* own = column_rows + slot * pixels * width;
    gemm<float>(Transpose::No, Transpose::No, pixels, width, g.out_channels, 1.0f,
                dy + task.image * pixels * g.out_channels, g.out_channels, w, width, 0.0f, own, width);
    float* image_grad = dx + task.image * image_size;
    std::fill(image_grad, image_grad + image_size, 0.0f);
    columns_to_image_add(g, own, image_grad);
  });
}

template <>
void conv2d_backward_weight<float>(const Conv2dGeometry& g, const float* dy, const float* x, float* dw,
                                   float* dbias) {
  const std::int64_t pixels = g.out_height * g.out_width, width = column_width(g);
  const std::int64_t image_size = g.in_height * g.in_width * g.in_channels, weights = g.out_channels * width;
  const Tasks tasks(g, parts_for_threads(g));
  const bool pointwise = is_pointwise(g);
  Tensor columns = scratch(pointwise ? 0 : tasks.count * tasks.rows_per_part * width);
  Tensor partial_tensor = scratch(tasks.count * weights);
  float* column_rows = columns.data<float>();
  float* partials = partial_tensor.data<float>();
  std::vector<char> used(std::size_t(tasks.count), 0);  // a task past the last pixel has no partial
  run_tasks(tasks, pixels, [&](const Task& task, std::int64_t slot) {
    const float* image = x + task.image * image_size;
    const float* b = image + task.begin * g.in_channels;
    if (!pointwise) {
      float* own = column_rows + slot * tasks.rows_per_part * width;
      image_to_columns(g, image, task.begin, task.end, own);
      b = own;
    }
    gemm<float>(Transpose::Yes, Transpose::No, g.out_channels, width, task.end - task.begin, 1.0f,
                dy + (task.image * pixels + task.begin) * g.out_channels, g.out_channels, b, width, 0.0f,
                partials + slot * weights, width);
    used[std::size_t(slot)] = 1;
  });
  // dw += the partials in task order, each weight on its own: the same sum whatever ran where.
  parallel_chunks(weights, kElementGrain, [&](std::int64_t, std::int64_t begin, std::int64_t end) {
    for (std::int64_t k = begin; k < end; ++k) {
      float total = 0.0f;
      for (std::int64_t t = 0; t < tasks.count; ++t)
        if (used[std::size_t(t)]) total += partials[t * weights + k];
      dw[k] += total;
    }
  });
  if (dbias != nullptr)
    for (std::int64_t n = 0; n < g.batch; ++n)
      for (std::int64_t p = 0; p < pixels; ++p)
        for (std::int64_t co = 0; co < g.out_channels; ++co) dbias[co] += dy[(n * pixels + p) * g.out_channels + co];
}

}  // namespace pans::cpu_fast
