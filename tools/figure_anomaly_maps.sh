#!/usr/bin/env bash
# The qualitative figure of the PAnS paper (Fig. 6) for our models: one row per test image with
# anomalies; columns: the input image, its ground truth (StreetHazards palette, anomaly in the
# anomaly colour, ignore black), the MSP anomaly map of the linear baseline, the PAnS anomaly map of
# the cosine model, both as inferno heat maps (brighter = more anomalous).
#
#   tools/figure_anomaly_maps.sh --linear LINEAR.bin --cosine COSINE.bin --data ROOT --out FIGURE.png
#       [--images STEM,STEM,STEM] [--scales F,F,...] [--heat-range per-image|fixed] [--tile-scale F]
#       [--gap PX] [--build DIR]
#
# ROOT is a StreetHazards layout (data/streethazards.h); the images come from its test split. Without
# --images: the first three test images sorted by file name (every test image of the embedded scenes
# holds an anomaly; for the released dataset pick rows with --images). --scales goes to infer_pans
# unchanged (default: the paper's five). --tile-scale resizes every tile before pasting (default 1),
# to keep a committed figure small. --heat-range goes to infer_pans; the default here is per-image
# (each map from its own minimum to maximum), not infer_pans' fixed [0, 1]: PAnS = 1 - (max cos + 1)/2
# stays within about [0.08, 0.37] on our models, so on the fixed ramp the whole PAnS column is one
# dim purple, while the anomaly metrics only rank pixels, which a per-image ramp shows. Use fixed to
# compare absolute scores across columns. Needs infer_pans and montage built in --build (default build/).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

fail() {
  echo "figure_anomaly_maps: $*" >&2
  exit 1
}

linear="" cosine="" data="" out="" images="" scales="" heat_range=per-image tile_scale=1 gap=4 build="$repo/build"
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || fail "$1 needs a value"
  case "$1" in
    --linear) linear="$2" ;;
    --cosine) cosine="$2" ;;
    --data) data="$2" ;;
    --out) out="$2" ;;
    --images) images="$2" ;;
    --scales) scales="$2" ;;
    --heat-range) heat_range="$2" ;;
    --tile-scale) tile_scale="$2" ;;
    --gap) gap="$2" ;;
    --build) build="$2" ;;
    *) fail "unknown option $1 (see the comment at the top of $0)" ;;
  esac
  shift 2
done
[ -n "$linear" ] && [ -n "$cosine" ] && [ -n "$data" ] && [ -n "$out" ] ||
  fail "--linear, --cosine, --data and --out are required"
for tool in infer_pans montage; do
  [ -x "$build/apps/$tool" ] || fail "$build/apps/$tool is missing; build it: cmake --build $build --target $tool"
done
image_dir="$data/test/images/test" label_dir="$data/test/annotations/test"
[ -d "$image_dir" ] || fail "$image_dir: no such folder (expected the StreetHazards test split under --data)"
[ -d "$label_dir" ] || fail "$label_dir: no such folder (the labels of $image_dir)"

# Every test image as "<file name> <path>", sorted by file name, so the default rows do not depend on
# the town folders' order.
listing="$(find "$image_dir" -type f -name '*.png' -printf '%f %p\n' | LC_ALL=C sort)"
[ -n "$listing" ] || fail "$image_dir holds no .png image"
chosen=()
if [ -z "$images" ]; then
  while read -r _ path; do chosen+=("$path"); done < <(head -n 3 <<<"$listing")
else
  IFS=, read -r -a stems <<<"$images"
  for stem in "${stems[@]}"; do
    matches="$(awk -v name="$stem.png" '$1 == name { print $2 }' <<<"$listing")"
    [ -n "$matches" ] || fail "--images $stem: no $stem.png under $image_dir"
    [ "$(wc -l <<<"$matches")" -eq 1 ] || fail "--images $stem: several $stem.png under $image_dir: $(echo $matches)"
    chosen+=("$matches")
  done
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# infer_pans takes one file or a folder: copying the chosen images into one folder runs each model once.
mkdir "$work/input"
for path in "${chosen[@]}"; do cp "$path" "$work/input/"; done

infer_flags=(--heat-range "$heat_range")
[ -z "$scales" ] || infer_flags+=(--scales "$scales")
"$build/apps/infer_pans" --checkpoint "$linear" --score msp --input "$work/input" --out "$work/linear" \
  --labels "$label_dir" "${infer_flags[@]}"
"$build/apps/infer_pans" --checkpoint "$cosine" --score pans --input "$work/input" --out "$work/cosine" \
  --labels "$label_dir" "${infer_flags[@]}"

tiles=()
for path in "${chosen[@]}"; do
  stem="$(basename "$path" .png)"
  tiles+=("$work/input/$stem.png" "$work/linear/${stem}_labels.png" "$work/linear/${stem}_anomaly.png"
    "$work/cosine/${stem}_anomaly.png")
done
mkdir -p "$(dirname "$out")"
"$build/apps/montage" --columns 4 --gap "$gap" --scale "$tile_scale" --out "$out" "${tiles[@]}"
echo "figure_anomaly_maps: $out (rows: $(for p in "${chosen[@]}"; do basename "$p" .png; done | paste -sd ' ');" \
  "columns: image, ground truth, MSP (linear), PAnS (cosine))"
