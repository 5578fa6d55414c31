#!/usr/bin/env bash
# examples/gradient-descent, the tutorial's demo: f = x^2 + y^2 from (50, 43), 50 steps of
# 0.03. Checks: the printed (x, y, z) triples parse, z = x^2 + y^2, every point is
# (50, 43) (1 - 2 * 0.03)^k within rounding (the first steps 1e-8 relative, all 1e-6), the
# central-difference gradient is 2x and 2y to 1e-6 relative (two-wells' is its derivative
# to 1e-8, which a forward difference misses), the end is within 5% of the
# start's distance from the minimum (0, 0); the SVG renders with rsvg-convert, at its
# stated size, with the path's colour at the start point's and the end point's place and
# contour lines elsewhere; two-wells ends in the local minimum from its default start
# (2, 1) and in the global one from (-2, 1); a step of 1.1 is noted as growing f; bad
# options exit 2.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
GD="$NN_BUILD/examples/gradient-descent"

expect_status 0 "$GD"
cp "$WORK/out" "$WORK/plain.txt"
[ "$(head -n 1 "$WORK/plain.txt")" = "(50, 43, 4349)" ] ||
    fail "the first point is $(head -n 1 "$WORK/plain.txt"), expected (50, 43, 4349)"
expect_status 0 "$GD" --gradient --svg "$WORK/bowl.svg"
cp "$WORK/out" "$WORK/bowl.txt"
[ "$(sed 's/ grad .*//' "$WORK/bowl.txt")" = "$(cat "$WORK/plain.txt")" ] ||
    fail "--gradient changed the path"

# path FILE: "x y z gx gy" per line of the program's output (gx gy only with --gradient).
"$PY" - "$WORK/bowl.txt" <<'EOF' || fail "the bowl's path is not the tutorial's"
import math, re, sys
number = r"(-?[0-9.]+(?:e[-+][0-9]+)?)"
line_re = re.compile(rf"^\({number}, {number}, {number}\) grad \({number}, {number}\)$")
points = []
for i, line in enumerate(open(sys.argv[1])):
    m = line_re.match(line.rstrip("\n"))
    assert m, f"line {i + 1} does not parse: {line!r}"
    points.append([float(v) for v in m.groups()])
assert len(points) == 51, f"{len(points)} points, expected the start and 50 steps"
for k, (x, y, z, gx, gy) in enumerate(points):
    factor = (1 - 2 * 0.03) ** k
    tol = 1e-8 if k <= 5 else 1e-6  # the first steps: rounding of 10 printed digits
    assert math.isclose(x, 50 * factor, rel_tol=tol), f"step {k}: x = {x}, expected {50 * factor}"
    assert math.isclose(y, 43 * factor, rel_tol=tol), f"step {k}: y = {y}, expected {43 * factor}"
    assert math.isclose(z, x * x + y * y, rel_tol=1e-9), f"step {k}: z = {z}, x^2 + y^2 = {x * x + y * y}"
    assert math.isclose(gx, 2 * x, rel_tol=1e-6), f"step {k}: df/dx = {gx}, expected 2x = {2 * x}"
    assert math.isclose(gy, 2 * y, rel_tol=1e-6), f"step {k}: df/dy = {gy}, expected 2y = {2 * y}"
x, y = points[-1][:2]
assert math.hypot(x, y) <= 0.05 * math.hypot(50, 43), f"the end ({x}, {y}) is not near (0, 0)"
print(f"bowl: 51 points as the tutorial's, gradient 2x to 1e-6, end ({x}, {y})")
EOF

if command -v rsvg-convert >/dev/null; then
    rsvg-convert -o "$WORK/bowl.png" "$WORK/bowl.svg" || fail "rsvg-convert cannot render $WORK/bowl.svg"
    PYTHONPATH="$NN_SOURCE/tests" "$PY" - "$WORK/bowl.svg" "$WORK/bowl.png" <<'EOF' ||
import re, sys
from plot_check import read_png  # tests/plot_check.py: PNG pixels through zlib
svg = open(sys.argv[1]).read()
pixels, _ = read_png(sys.argv[2])
height, width = pixels.shape[:2]
rgb = lambda x, y: tuple(int(c) for c in pixels[y, x, :3])
size = re.search(r'<svg [^>]*width="([0-9.]+)" height="([0-9.]+)"', svg)
assert (width, height) == (round(float(size[1])), round(float(size[2]))), \
    f"rendered {width} x {height}, the SVG says {size[1]} x {size[2]}"
xmin, xmax, ymin, ymax = map(float, re.search(r'data-view="([^"]+)"', svg)[1].split())
left, top, w, h = map(float, re.search(r'data-area="([^"]+)"', svg)[1].split())
def place(x, y):  # where the stated view and plot area put the data point (x, y)
    return left + (x - xmin) * w / (xmax - xmin), top + (ymax - y) * h / (ymax - ymin)
path_colour = lambda p: p[0] > 180 and p[1] < 100 and p[2] < 100
contour_colour = lambda p: p[2] > p[0] + 40
for name, (x, y) in [("start", (50, 43)), ("end", (50 * 0.94 ** 50, 43 * 0.94 ** 50))]:
    cx, cy = place(x, y)
    near = [rgb(round(cx) + dx, round(cy) + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    assert all(map(path_colour, near)), f"no path colour at the {name} ({cx:.1f}, {cy:.1f}): {near}"
pixels = [rgb(i, j) for j in range(0, height, 2) for i in range(0, width, 2)]
red, blue = sum(map(path_colour, pixels)), sum(map(contour_colour, pixels))
assert 0 < red < len(pixels) * 0.05, f"{red} of {len(pixels)} sampled pixels in the path's colour"
assert blue > 500, f"only {blue} sampled pixels of contour lines"
print(f"bowl.svg: {width} x {height}, the path at its start and end, {blue} contour pixels sampled")
EOF
        fail "the rendered picture is not the path on contour lines"
else
    skip_part "rendering the SVG: needs rsvg-convert (Debian's librsvg2-bin)"
fi

# The trap: from (2, 1) two-wells ends in the local minimum (1.1309, 0), from (-2, 1) in
# the global one (-1.3008, 0).
end_x() { tail -n 1 "$WORK/out" | sed -E 's/^\(([^,]+),.*/\1/'; }
expect_status 0 "$GD" --function two-wells --gradient --svg "$WORK/wells.svg"
# Central differences are exact to about 1e-10 here; a forward difference would be off by
# h f''/2, about 5e-6.
"$PY" - "$WORK/out" <<'EOF' || fail "two-wells: the gradient is not the central difference's"
import re, sys
for k, line in enumerate(open(sys.argv[1])):
    x, y, z, gx, gy = map(float, re.findall(r"-?[0-9.]+(?:e[-+][0-9]+)?", line))
    assert abs(gx - (4 * x**3 - 6 * x + 1)) <= 1e-8, f"step {k}: df/dx = {gx} at x = {x}"
    assert abs(gy - 2 * y) <= 1e-8, f"step {k}: df/dy = {gy} at y = {y}"
EOF
close_enough 1.1309011 "$(end_x)" 1e-4 || fail "two-wells from (2, 1) ended at x = $(end_x), not the local minimum 1.1309"
[ -s "$WORK/wells.svg" ] || fail "no two-wells picture"
expect_status 0 "$GD" --function two-wells --start -2,1
close_enough -1.3008396 "$(end_x)" 1e-4 || fail "two-wells from (-2, 1) ended at x = $(end_x), not the global minimum -1.3008"
echo "two-wells: (2, 1) ends in the local minimum, (-2, 1) in the global one"

expect_status 0 "$GD" --start 1,-2 --step 0.1 --steps 3
[ "$(cat "$WORK/out")" = "$(printf '(1, -2, 5)\n(0.8, -1.6, 3.2)\n(0.64, -1.28, 2.048)\n(0.512, -1.024, 1.31072)')" ] ||
    fail "--start 1,-2 --step 0.1 --steps 3 printed $(cat "$WORK/out")"
expect_status 0 "$GD" --step 1.1 --steps 10
expect_in "$WORK/err" "f rose from 4349 to"
expect_status 2 "$GD" --step abc
expect_in "$WORK/err" "--step: expected a number > 0, not 'abc'"
expect_status 2 "$GD" --function saddle
expect_in "$WORK/err" "--function: not bowl or two-wells: 'saddle'"
expect_status 2 "$GD" --start 1
expect_status 1 "$GD" --svg "$WORK/no/such/dir/x.svg"
expect_in "$WORK/err" "cannot create"
finish example_gradient_descent
