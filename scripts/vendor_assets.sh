#!/usr/bin/env bash
# Re-create web/static/vendor/ : the front-end files every Folium map of the
# app loads, so that a rendered map needs no CDN (no internet at all).
#
# The vendored files are committed: this script is NOT part of setup, CI or
# deployment. Run it by hand only to bump a version or to check that the
# committed tree still matches the registries:
#
#     bash scripts/vendor_assets.sh          # then review the diff
#
# Sources: the npm registry (`npm pack NAME@VERSION`, integrity checked by npm)
# and, for the patched Leaflet.heat build folium ships, the folium wheel on
# PyPI (`pip download`). Nothing else is fetched. Only the dist files a page
# needs are kept (plus licences); source maps, sources and docs are dropped,
# and the `sourceMappingURL` comments of the kept minified files are removed
# so that browser dev tools do not ask for the missing .map files.
#
# When a version changes here, update the table in web/static/vendor/README.md
# and, if a file path changes, the table in layers/offline.py; then run
# `.venv/bin/python -m pytest tests/layers/test_offline_assets.py`.
#
# Needs: bash, npm, tar, awk, sed and a Python with pip (PYTHON=..., default
# .venv/bin/python of the repository, else python3).
set -euo pipefail
shopt -s inherit_errexit

# --- pinned versions ---------------------------------------------------------
LEAFLET_VERSION=1.9.3                 # folium 0.20: leaflet@1.9.3
LEAFLET_DRAW_VERSION=1.0.4            # folium 0.20 asks cdnjs leaflet.draw 1.0.2
MARKERCLUSTER_VERSION=1.5.3           # folium 0.20 asks cdnjs 1.1.0
JQUERY_VERSION=3.7.1                  # folium 0.20: jquery-3.7.1
BOOTSTRAP_VERSION=5.2.2               # folium 0.20: bootstrap@5.2.2
BOOTSTRAP3_VERSION=3.4.1              # glyphicons only (folium: 3.0.0 glyphicons css)
FONTAWESOME_VERSION=6.2.0             # folium 0.20: @fortawesome/fontawesome-free@6.2.0
AWESOME_MARKERS_VERSION=2.0.5         # folium 0.20 asks cdnjs 2.0.2 (same JS)
VECTORGRID_VERSION=1.3.0              # not a folium plugin: the sector page's vector tiles
FOLIUM_VERSION=0.20.0                 # for folium/templates/leaflet_heat.min.js

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/web/static/vendor"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
STAGE="$TMP/stage"
mkdir -p "$STAGE"

# fetch SPEC -> prints the directory holding the unpacked package/
fetch() {
    local spec="$1" dir="$TMP/pkg/${1//\//_}" tgz
    mkdir -p "$dir"
    tgz="$(cd "$dir" && npm pack --silent "$spec" | tail -n 1)"
    tar -xzf "$dir/$tgz" -C "$dir"
    printf '%s/package' "$dir"
}

# put SRC DEST_RELATIVE_TO_VENDOR
put() {
    install -D -m 0644 "$1" "$STAGE/$2"
}

# strip_map FILE_RELATIVE_TO_VENDOR: drop whole-line sourceMappingURL comments
strip_map() {
    sed -i -E '/^\/\/# sourceMappingURL=/d; /^\/\*# sourceMappingURL=.*\*\/$/d' "$STAGE/$1"
}

echo "leaflet@$LEAFLET_VERSION"
P="$(fetch "leaflet@$LEAFLET_VERSION")"
put "$P/dist/leaflet.js" leaflet/leaflet.js
put "$P/dist/leaflet.css" leaflet/leaflet.css
for img in layers.png layers-2x.png marker-icon.png marker-icon-2x.png marker-shadow.png; do
    put "$P/dist/images/$img" "leaflet/images/$img"
done
put "$P/LICENSE" leaflet/LICENSE
strip_map leaflet/leaflet.js

echo "leaflet-draw@$LEAFLET_DRAW_VERSION"
P="$(fetch "leaflet-draw@$LEAFLET_DRAW_VERSION")"
put "$P/dist/leaflet.draw.js" leaflet-draw/leaflet.draw.js
put "$P/dist/leaflet.draw.css" leaflet-draw/leaflet.draw.css
for img in spritesheet.png spritesheet-2x.png spritesheet.svg; do
    put "$P/dist/images/$img" "leaflet-draw/images/$img"
done
# (the npm package ships no licence file: MIT, see README.md)

echo "leaflet.markercluster@$MARKERCLUSTER_VERSION"
P="$(fetch "leaflet.markercluster@$MARKERCLUSTER_VERSION")"
put "$P/dist/leaflet.markercluster.js" leaflet.markercluster/leaflet.markercluster.js
put "$P/dist/MarkerCluster.css" leaflet.markercluster/MarkerCluster.css
put "$P/dist/MarkerCluster.Default.css" leaflet.markercluster/MarkerCluster.Default.css
put "$P/MIT-LICENCE.txt" leaflet.markercluster/MIT-LICENCE.txt
strip_map leaflet.markercluster/leaflet.markercluster.js

echo "leaflet.vectorgrid@$VECTORGRID_VERSION"
P="$(fetch "leaflet.vectorgrid@$VECTORGRID_VERSION")"
put "$P/dist/Leaflet.VectorGrid.bundled.min.js" leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js
# (the npm package ships no licence file: Beerware, see README.md)

echo "jquery@$JQUERY_VERSION"
P="$(fetch "jquery@$JQUERY_VERSION")"
put "$P/dist/jquery.min.js" jquery/jquery.min.js
put "$P/LICENSE.txt" jquery/LICENSE.txt
strip_map jquery/jquery.min.js

echo "bootstrap@$BOOTSTRAP_VERSION"
P="$(fetch "bootstrap@$BOOTSTRAP_VERSION")"
put "$P/dist/js/bootstrap.bundle.min.js" bootstrap/js/bootstrap.bundle.min.js
put "$P/dist/css/bootstrap.min.css" bootstrap/css/bootstrap.min.css
put "$P/LICENSE" bootstrap/LICENSE
strip_map bootstrap/js/bootstrap.bundle.min.js
strip_map bootstrap/css/bootstrap.min.css

echo "bootstrap@$BOOTSTRAP3_VERSION (glyphicons only)"
P="$(fetch "bootstrap@$BOOTSTRAP3_VERSION")"
# Keep the banner comment, then the @font-face and every .glyphicon rule:
# in bootstrap.css they run from the first "@font-face {" to the "* {" rule.
GLYPH_CSS="$STAGE/bootstrap3-glyphicons/css/bootstrap-glyphicons.css"
mkdir -p "$(dirname "$GLYPH_CSS")"
awk '
    NR == 1, /^ \*\/$/ { print; next }
    /^@font-face \{/   { keep = 1 }
    keep && /^\* \{/   { exit }
    keep               { print }
' "$P/dist/css/bootstrap.css" > "$GLYPH_CSS"
grep -q 'font-family: "Glyphicons Halflings"' "$GLYPH_CSS"
grep -q '^\.glyphicon-info-sign:before' "$GLYPH_CSS"
grep -q '^\.glyphicon-menu-up:before' "$GLYPH_CSS"
if grep -q -E '^(html|body|\.btn|\.container)\b' "$GLYPH_CSS"; then
    echo "glyphicons extraction picked up non-glyphicon rules" >&2; exit 1
fi
for ext in eot svg ttf woff woff2; do
    put "$P/dist/fonts/glyphicons-halflings-regular.$ext" "bootstrap3-glyphicons/fonts/glyphicons-halflings-regular.$ext"
done
put "$P/LICENSE" bootstrap3-glyphicons/LICENSE

echo "@fortawesome/fontawesome-free@$FONTAWESOME_VERSION"
P="$(fetch "@fortawesome/fontawesome-free@$FONTAWESOME_VERSION")"
put "$P/css/all.min.css" fontawesome-free/css/all.min.css
for f in "$P"/webfonts/*.woff2 "$P"/webfonts/*.ttf; do
    put "$f" "fontawesome-free/webfonts/$(basename "$f")"
done
put "$P/LICENSE.txt" fontawesome-free/LICENSE.txt

echo "leaflet.awesome-markers@$AWESOME_MARKERS_VERSION"
P="$(fetch "leaflet.awesome-markers@$AWESOME_MARKERS_VERSION")"
put "$P/dist/leaflet.awesome-markers.js" leaflet.awesome-markers/leaflet.awesome-markers.js
put "$P/dist/leaflet.awesome-markers.css" leaflet.awesome-markers/leaflet.awesome-markers.css
for img in markers-soft.png markers-soft@2x.png markers-shadow.png markers-shadow@2x.png; do
    put "$P/dist/images/$img" "leaflet.awesome-markers/images/$img"
done
put "$P/LICENSE" leaflet.awesome-markers/LICENSE

echo "folium==$FOLIUM_VERSION wheel (leaflet_heat.min.js)"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: -d "$TMP/wheel" "folium==$FOLIUM_VERSION"
mkdir -p "$STAGE/folium"
"$PYTHON" - "$TMP/wheel" "$STAGE/folium/leaflet_heat.min.js" <<'EOF'
import pathlib, sys, zipfile
wheel = next(pathlib.Path(sys.argv[1]).glob("folium-*.whl"))
with zipfile.ZipFile(wheel) as zf:
    pathlib.Path(sys.argv[2]).write_bytes(zf.read("folium/templates/leaflet_heat.min.js"))
EOF

echo "leaflet.awesome.rotate.min.css (written here)"
# folium's Icon(angle=N) adds the class "fa-rotate-N" to the icon; folium loads
# the rules from its GitHub repository (not on npm). Same rules, N = 1..360.
{
    printf '/* fa-rotate-N (N = 1..360) for folium Icon(angle=N); written for this project, equivalent to folium/templates/leaflet.awesome.rotate.css */\n'
    for n in $(seq 1 360); do
        printf '.fa-rotate-%d{transform:rotate(%ddeg)}\n' "$n" "$n"
    done
} > "$STAGE/folium/leaflet.awesome.rotate.min.css"

# Replace everything but the hand-written README.md.
mkdir -p "$DEST"
find "$DEST" -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
cp -R "$STAGE"/. "$DEST"/
echo "done: $(du -sh "$DEST" | cut -f1) in $DEST"
