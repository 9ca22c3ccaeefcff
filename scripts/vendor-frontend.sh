#!/usr/bin/env bash
# Vendors the front-end files the pages use, once, from the npm registry: copies each package's
# built files and its licence into crates/web/assets/vendor/ and writes VENDOR.md with versions and
# sha256 sums. The files are committed; nothing is fetched at build or run time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=crates/web/assets/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=("htmx.org@2.0.11" "leaflet@1.9.4" "leaflet.markercluster@1.5.3" "echarts@6.1.0" "swagger-ui-dist@5.35.0")
(cd "$work" && for p in "${packages[@]}"; do npm pack -q "$p" >/dev/null; done)
rm -rf "$out" && mkdir -p "$out/htmx" "$out/leaflet/images" "$out/markercluster" "$out/echarts" "$out/swagger-ui"
tar -xzf "$work"/htmx.org-*.tgz -C "$work" && mv "$work/package" "$work/htmx"
cp "$work/htmx/dist/htmx.min.js" "$out/htmx/"
cp "$work/htmx/LICENSE" "$out/htmx/LICENSE"
tar -xzf "$work"/leaflet-*.tgz -C "$work" && mv "$work/package" "$work/leaflet"
cp "$work/leaflet/dist/leaflet.js" "$work/leaflet/dist/leaflet.css" "$out/leaflet/"
cp "$work/leaflet/dist/images/"*.png "$out/leaflet/images/"
cp "$work/leaflet/LICENSE" "$out/leaflet/LICENSE"
tar -xzf "$work"/leaflet.markercluster-*.tgz -C "$work" && mv "$work/package" "$work/markercluster"
cp "$work/markercluster/dist/leaflet.markercluster.js" "$work/markercluster/dist/MarkerCluster.css" \
   "$work/markercluster/dist/MarkerCluster.Default.css" "$out/markercluster/"
cp "$work/markercluster/MIT-LICENCE.txt" "$out/markercluster/LICENSE"
tar -xzf "$work"/echarts-*.tgz -C "$work" && mv "$work/package" "$work/echarts"
cp "$work/echarts/dist/echarts.min.js" "$out/echarts/"
cp "$work/echarts/LICENSE" "$work/echarts/NOTICE" "$out/echarts/"
cp "$work/echarts/licenses/LICENSE-d3" "$out/echarts/LICENSE-d3"
# Swagger UI for the API documentation page: the bundle and its styles only (the tarball is
# unpacked, never installed, so its analytics install script never runs).
tar -xzf "$work"/swagger-ui-dist-*.tgz -C "$work" && mv "$work/package" "$work/swagger-ui"
cp "$work/swagger-ui/swagger-ui-bundle.js" "$work/swagger-ui/swagger-ui.css" "$out/swagger-ui/"
cp "$work/swagger-ui/LICENSE" "$out/swagger-ui/LICENSE"
[ -f "$work/swagger-ui/NOTICE" ] && cp "$work/swagger-ui/NOTICE" "$out/swagger-ui/NOTICE"
find "$out" -type f -exec chmod 644 {} +
{
  echo "# Vendored front-end files"
  echo
  echo "Written by \`scripts/vendor-frontend.sh\` from the npm registry; served by the binary (rust-embed)."
  echo
  echo "| package | version | licence |"
  echo "|---|---|---|"
  echo "| htmx.org | $(node -p "require('$work/htmx/package.json').version") | 0BSD (htmx/LICENSE) |"
  echo "| leaflet | $(node -p "require('$work/leaflet/package.json').version") | BSD-2-Clause (leaflet/LICENSE) |"
  echo "| leaflet.markercluster | $(node -p "require('$work/markercluster/package.json').version") | MIT (markercluster/LICENSE) |"
  echo "| echarts | $(node -p "require('$work/echarts/package.json').version") | Apache-2.0 (echarts/LICENSE, echarts/NOTICE) |"
  echo "| swagger-ui-dist | $(node -p "require('$work/swagger-ui/package.json').version") | Apache-2.0 (swagger-ui/LICENSE) |"
  echo
  echo "| file | sha256 |"
  echo "|---|---|"
  (cd "$out" && find . -type f ! -name VENDOR.md | sort | while read -r f; do echo "| ${f#./} | $(sha256sum "$f" | cut -d' ' -f1) |"; done)
} > "$out/VENDOR.md"
echo "vendored into $out"
