#!/usr/bin/env bash
# Vendors the front-end files the pages use, once, from the npm registry: copies each package's
# built files and its licence into crates/web/assets/vendor/ and writes VENDOR.md with versions and
# sha256 sums. The files are committed; nothing is fetched at build or run time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=crates/web/assets/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=("htmx.org@2.0.11" "leaflet@1.9.4")
(cd "$work" && for p in "${packages[@]}"; do npm pack -q "$p" >/dev/null; done)
rm -rf "$out" && mkdir -p "$out/htmx" "$out/leaflet/images"
tar -xzf "$work"/htmx.org-*.tgz -C "$work" && mv "$work/package" "$work/htmx"
cp "$work/htmx/dist/htmx.min.js" "$out/htmx/"
cp "$work/htmx/LICENSE" "$out/htmx/LICENSE"
tar -xzf "$work"/leaflet-*.tgz -C "$work" && mv "$work/package" "$work/leaflet"
cp "$work/leaflet/dist/leaflet.js" "$work/leaflet/dist/leaflet.css" "$out/leaflet/"
cp "$work/leaflet/dist/images/"*.png "$out/leaflet/images/"
cp "$work/leaflet/LICENSE" "$out/leaflet/LICENSE"
{
  echo "# Vendored front-end files"
  echo
  echo "Written by \`scripts/vendor-frontend.sh\` from the npm registry; served by the binary (rust-embed)."
  echo
  echo "| package | version | licence |"
  echo "|---|---|---|"
  echo "| htmx.org | $(node -p "require('$work/htmx/package.json').version") | 0BSD (htmx/LICENSE) |"
  echo "| leaflet | $(node -p "require('$work/leaflet/package.json').version") | BSD-2-Clause (leaflet/LICENSE) |"
  echo
  echo "| file | sha256 |"
  echo "|---|---|"
  (cd "$out" && find . -type f ! -name VENDOR.md | sort | while read -r f; do echo "| ${f#./} | $(sha256sum "$f" | cut -d' ' -f1) |"; done)
} > "$out/VENDOR.md"
echo "vendored into $out"
