"""Checks of nn-mpi plot's and nn-mpi eval --confusion/--errors' pictures for tests/plot.sh,
from the numbers they draw (read here independently: the metrics with Python's json, the
data and the checkpoint with h5py) and from the pixels of the rendered pictures (PNG decoded
here with zlib and struct; no imaging library needed).

  plot_check.py curves SVG PNG NAME=METRICS... [--second accuracy|r2]
                [--expect RUN:SERIES:EPOCH=VALUE]
      SVG (rendered as PNG by rsvg-convert) draws, for every run of the METRICS files (in
      order; NAME, or "NAME (ID)" when a file holds several runs), the latest epoch event's
      value of each series at the place the plot area's data-* axis ranges give, in the
      run's colour on the rendered pixels; colours differ between runs and dashes between
      series; legends name every curve; tick labels sit where their values map to.
  plot_check.py confusion SVG PNG EVAL.json
      The heat map's count texts equal eval --json's confusion matrix, cells are shaded by
      their row's fraction (more is darker in the rendered pixels, within a row and
      diagonal against off-diagonal).
  plot_check.py errors PNG DATA CKPT EVAL.json
      The grid holds the first min(misclassified, 64) misclassified test rows: its size is
      the documented layout's, each tile is the row's image upscaled 3 times, labels are
      the data's, predictions differ from them and agree with a numpy forward pass of the
      checkpoint (which finds the same rows, up to a near tie or two).
"""
import json
import math
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

import numpy as np

NS = "{http://www.w3.org/2000/svg}"


def fail(msg):
    print(f"plot_check: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def read_png(path):
    """(pixels (h, w, channels) uint8, tEXt dict) of an 8-bit non-interlaced PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path}: not a PNG")
    pos, idat, texts, header = 8, [], {}, None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
            fail(f"{path}: bad CRC in chunk {kind}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"tEXt":
            key, value = body.split(b"\0", 1)
            texts[key.decode("latin-1")] = value.decode("latin-1")
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = header
    if depth != 8 or interlace != 0 or ctype not in (0, 2, 6):
        fail(f"{path}: depth {depth}, colour type {ctype}, interlace {interlace}: not decoded here")
    bpp = {0: 1, 2: 3, 6: 4}[ctype]
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, 1 + w * bpp)
    out = np.zeros((h, w * bpp), np.uint8)
    prev = np.zeros(w * bpp, np.int64)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int64)
        if f == 0:
            row = line
        elif f == 1:  # Sub: a running sum per channel
            row = np.cumsum(line.reshape(w, bpp), axis=0).reshape(-1) & 255
        elif f == 2:  # Up
            row = (line + prev) & 255
        elif f in (3, 4):  # Average, Paeth: byte after byte
            row, up = line.tolist(), prev.tolist()
            for x in range(w * bpp):
                a = row[x - bpp] if x >= bpp else 0
                b = up[x]
                if f == 3:
                    row[x] = (row[x] + ((a + b) >> 1)) & 255
                else:
                    c = up[x - bpp] if x >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            row = np.array(row, np.int64)
        else:
            fail(f"{path}: row {y}: filter type {f}")
        out[y] = row
        prev = row
    img = out.reshape(h, w, bpp)
    return (img[:, :, :3] if bpp == 4 else img), texts


def svg_root(path):
    root = ET.parse(path).getroot()
    return root, int(root.get("width")), int(root.get("height"))


def elements(root, tag, cls=None):
    return [e for e in root.iter(NS + tag) if cls is None or e.get("class") == cls]


def hex_rgb(colour):
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def texts_of(root, cls=None):
    return ["".join(e.itertext()) for e in elements(root, "text", cls)]


# ---- curves ----

LOSS = ["train_loss", "validation_loss", "test_loss"]
LABELS = {"train_loss": "train loss", "validation_loss": "validation loss",
          "test_loss": "test loss", "validation_accuracy": "validation accuracy",
          "test_accuracy": "test accuracy", "validation_r2": "validation R\u00b2",
          "test_r2": "test R\u00b2"}


def read_metrics(name, path):
    """[(legend name, regression, {epoch: event})] of the runs of one metrics file."""
    runs = {}
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            if ev.get("event") == "epoch":
                run = runs.setdefault(ev["run"], {"epochs": {}, "regression": False})
                run["epochs"][ev["epoch"]] = ev  # the latest event of an epoch counts
                run["regression"] |= "test_r2" in ev or "validation_r2" in ev
    if not runs:
        fail(f"{path}: no epoch events (the test's own input)")
    return [(name if len(runs) == 1 else f"{name} ({rid})", r["regression"], r["epochs"])
            for rid, r in runs.items()]


def check_curves(svg, png, specs, second, expects):
    runs = []
    for spec in specs:
        name, path = spec.split("=", 1)
        runs += read_metrics(name, path)
    root, width, height = svg_root(svg)
    pixels, _ = read_png(png)
    if pixels.shape[:2] != (height, width):
        fail(f"{png} is {pixels.shape[1]}x{pixels.shape[0]}, the SVG {width}x{height}")
    areas = {a.get("data-panel"): a for a in elements(root, "rect", "plot-area")}
    if set(areas) != {"loss", second}:
        fail(f"panels {sorted(areas)}, expected loss and {second}")
    titles = texts_of(root, "axis-title")
    want_title = {"accuracy": "accuracy", "r2": "R\u00b2"}[second]
    if titles.count("epoch") != 2 or "loss" not in titles or want_title not in titles:
        fail(f"axis titles {titles}")
    if not texts_of(root, "title") or not texts_of(root, "title")[0]:
        fail("no title")

    def mapping(panel):
        a = areas[panel]
        x, y, w, h = (float(a.get(k)) for k in ("x", "y", "width", "height"))
        x0, x1, y0, y1 = (float(a.get(k)) for k in ("data-xmin", "data-xmax", "data-ymin", "data-ymax"))
        return (lambda e: x + (e - x0) / (x1 - x0) * w), (lambda v: y + h - (v - y0) / (y1 - y0) * h), (y0, y1, y, h)

    # Ticks: each y label is a number drawn at its value's height, in ascending order.
    for panel in areas:
        px, py, (y0, y1, top, h) = mapping(panel)
        labels = [(float(t.get("y")), "".join(t.itertext())) for t in elements(root, "text", "tick")
                  if t.get("text-anchor") == "end" and top - 1 <= float(t.get("y")) - 4 <= top + h + 1]
        labels.sort()  # top to bottom
        values = [float(s) for _, s in labels]
        if len(values) < 3 or values != sorted(values, reverse=True) or \
                abs(values[0] - y1) > 1e-9 * max(1, abs(y1)) or abs(values[-1] - y0) > 1e-9 * max(1, abs(y0)):
            fail(f"panel {panel}: y tick labels {values} for the axis {y0} .. {y1}")
        for ty, s in labels:
            if abs(ty - 4 - py(float(s))) > 0.6:
                fail(f"panel {panel}: tick label {s} at y {ty - 4}, its value maps to {py(float(s)):.2f}")

    colours, points, legend = {}, {}, texts_of(root)
    for line in elements(root, "polyline", "series"):
        i, series = int(line.get("data-run")), line.get("data-series")
        colours.setdefault(i, set()).add(line.get("stroke"))
        dash = line.get("stroke-dasharray")
        want = None if series.startswith("train") else "8,4" if series.startswith("validation") else "2,3"
        if dash != want:
            fail(f"run {i} {series}: dash {dash}, expected {want}")
    for c in elements(root, "circle", "point"):
        points[(int(c.get("data-run")), c.get("data-series"), int(c.get("data-epoch")))] = c
    if sorted(colours) != list(range(len(runs))):
        fail(f"curves for runs {sorted(colours)}, expected {len(runs)} runs")
    if any(len(c) != 1 for c in colours.values()) or len({next(iter(c)) for c in colours.values()}) != min(len(runs), 10):
        fail(f"run colours {colours}: one colour per run, each different")
    colour = {i: next(iter(c)) for i, c in colours.items()}

    checked, tolerated, drawn = 0, 0, []
    for i, (name, regression, epochs) in enumerate(runs):
        series = LOSS + (["validation_r2", "test_r2"] if regression else ["validation_accuracy", "test_accuracy"])
        for s in series:
            panel = "loss" if s in LOSS else second
            px, py, (y0, y1, _, _) = mapping(panel)
            values = {e: ev.get(s) for e, ev in epochs.items()}
            if any(v is not None for v in values.values()) and f"{name} {LABELS[s]}" not in legend:
                fail(f"no legend entry '{name} {LABELS[s]}'")
            for e, v in sorted(values.items()):
                c = points.pop((i, s, e), None)
                if v is None:
                    if c is not None:
                        fail(f"run {name} {s} epoch {e}: drawn, but the value is null")
                    continue
                if c is None:
                    fail(f"run {name} {s} epoch {e}: {v} not drawn")
                if not (y0 <= v <= y1):
                    fail(f"run {name} {s} epoch {e}: {v} outside the axis {y0} .. {y1}")
                x, y = px(e), py(v)
                if abs(float(c.get("cx")) - x) > 0.01 or abs(float(c.get("cy")) - y) > 0.01 or \
                        float(c.get("data-value")) != v:
                    fail(f"run {name} {s} epoch {e}: drawn at ({c.get('cx')}, {c.get('cy')}) value "
                         f"{c.get('data-value')}, expected ({x:.2f}, {y:.2f}) value {v}")
                drawn.append((i, s, e, x, y))
    if points:
        fail(f"points drawn that the metrics do not have: {sorted(points)[:5]}")
    # The rendered pixels: the run's colour at each value's place (a 5x5 box around it),
    # unless a later run's marker covers the place.
    for i, s, e, x, y in drawn:
        want = np.array(hex_rgb(colour[i]), np.int64)
        box = pixels[max(0, round(y) - 2):round(y) + 3, max(0, round(x) - 2):round(x) + 3].astype(np.int64)
        if (np.abs(box - want).max(axis=2) <= 24).any():
            checked += 1
        elif any(j > i and math.hypot(x - xj, y - yj) < 7 for j, _, _, xj, yj in drawn):
            tolerated += 1
        else:
            fail(f"{png}: run {runs[i][0]} {s} epoch {e}: no {colour[i]} pixel near ({x:.1f}, {y:.1f})")
    if checked < 0.8 * len(drawn):
        fail(f"{png}: only {checked} of {len(drawn)} values found in the pixels")
    for spec in expects:
        key, value = spec.split("=")
        i, s, e = key.split(":")
        c = [c for c in elements(root, "circle", "point") if (c.get("data-run"), c.get("data-series"), c.get("data-epoch")) == (i, s, e)]
        if not c or float(c[0].get("data-value")) != float(value):
            fail(f"run {i} {s} epoch {e}: drawn {c[0].get('data-value') if c else 'nothing'}, expected {value}")
    print(f"curves: {len(runs)} runs, {len(drawn)} values at their places; {checked} seen in the "
          f"pixels, {tolerated} under a later run's marker")


# ---- confusion ----

def luminance(rgb):
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def check_confusion(svg, png, report):
    confusion = np.array(json.load(open(report))["confusion"])
    C = len(confusion)
    root, width, height = svg_root(svg)
    pixels, _ = read_png(png)
    if pixels.shape[:2] != (height, width):
        fail(f"{png} is {pixels.shape[1]}x{pixels.shape[0]}, the SVG {width}x{height}")
    counts = np.full((C, C), -1)
    for t in elements(root, "text", "count"):
        counts[int(t.get("data-true")), int(t.get("data-predicted"))] = int("".join(t.itertext()))
    if not (counts == confusion).all():
        fail(f"the count texts differ from eval --json's confusion matrix:\n{counts}\n{confusion}")
    shade = np.zeros((C, C))
    for r in elements(root, "rect", "cell"):
        i, j = int(r.get("data-true")), int(r.get("data-predicted"))
        if int(r.get("data-count")) != confusion[i, j] or \
                abs(float(r.get("data-fraction")) - confusion[i, j] / confusion[i].sum()) > 1e-6:
            fail(f"cell ({i}, {j}): count {r.get('data-count')} fraction {r.get('data-fraction')}")
        x, y = int(r.get("x")), int(r.get("y"))
        shade[i, j] = luminance(pixels[y + 3, x + 3].astype(float))  # a corner, away from the text
    diagonal, off = shade[np.eye(C, dtype=bool)].mean(), shade[~np.eye(C, dtype=bool)].mean()
    if not diagonal < off - 80:
        fail(f"diagonal cells (mean luminance {diagonal:.0f}) are not darker than the others ({off:.0f})")
    for i in range(C):  # within a row, a larger count is never lighter
        for j in range(C):
            for k in range(C):
                if confusion[i, j] > confusion[i, k] and shade[i, j] > shade[i, k] + 1:
                    fail(f"row {i}: {confusion[i, j]} drawn lighter than {confusion[i, k]}")
    titles = texts_of(root, "axis-title")
    for t in ("true class", "predicted class", "fraction of the true class"):
        if t not in titles:
            fail(f"no axis title '{t}' in {titles}")
    if not elements(root, "rect", "colour-scale"):
        fail("no colour scale")
    print(f"confusion: {C}x{C} counts equal eval's; diagonal luminance {diagonal:.0f}, others {off:.0f}")


# ---- errors ----

def forward(ck, x):
    import h5py
    with h5py.File(ck) as f:
        layers = len(f["model"])
        for l in range(layers):
            x = x @ f[f"model/layer_{l}/weights"][...].T.astype(np.float64) + f[f"model/layer_{l}/biases"][...]
            if l < layers - 1:
                x = np.maximum(x, 0)
    return x.argmax(1)


def check_errors(png, data, ck, report):
    import h5py
    r = json.load(open(report))
    samples, confusion = r["samples"], np.array(r["confusion"])
    total = samples - np.trace(confusion)
    n = min(total, 64)
    pixels, texts = read_png(png)
    lines = texts.get("Description", "").split("\n")
    if f"the first {n} of {total} misclassified rows of the test split" not in lines[0]:
        fail(f"Description: {lines[0]!r}, expected the first {n} of {total}")
    rows = [tuple(int(v) for v in line.split()) for line in lines[1:]]
    if len(rows) != n:
        fail(f"{len(rows)} images listed, expected {n}")
    # The documented layout for 28x28 images and captions "true D" / "pred D".
    u, f, pad = 3, 2, 6
    cell_w, cell_h = 28 * u, 28 * u + 2 + 2 * 9 * f
    columns, grid_rows = min(n, 8), -(-n // 8)
    want = (pad + grid_rows * (cell_h + pad), pad + columns * (cell_w + pad))
    if pixels.shape[:2] != want:
        fail(f"{png} is {pixels.shape[1]}x{pixels.shape[0]}, expected {want[1]}x{want[0]} for {n} images")
    with h5py.File(data) as d:
        images = d["test/images"][:samples]
        labels = d["test/labels"][:samples].astype(np.int64)
    predicted = forward(ck, images.astype(np.float64) / 255)
    if [row for row, _, _ in rows] != sorted({row for row, _, _ in rows}):
        fail(f"rows not in ascending order: {rows[:5]} ...")
    disagree = 0
    for k, (row, true, pred) in enumerate(rows):
        if true != labels[row] or pred == true:
            fail(f"image {k}: row {row} true {true} predicted {pred}; the data's label is {labels[row]}")
        disagree += pred != predicted[row]
        y0, x0 = pad + (k // 8) * (cell_h + pad), pad + (k % 8) * (cell_w + pad)
        tile = pixels[y0:y0 + 28 * u, x0:x0 + 28 * u]
        want_tile = np.kron(images[row].reshape(28, 28), np.ones((u, u), np.uint8))
        for ch in range(3):
            if not (tile[:, :, ch] == want_tile).all():
                fail(f"image {k} (row {row}) differs from the data's image upscaled {u} times")
        caption = pixels[y0 + 28 * u:y0 + cell_h, x0:x0 + cell_w].reshape(-1, 3).tolist()
        if [130, 230, 130] not in caption or [255, 130, 120] not in caption:
            fail(f"image {k}: no green and red caption pixels under it")
    # float32 against float64 may flip a near tie: allow two.
    wrong = [i for i in range(samples) if predicted[i] != labels[i]][:n]
    moved = len(set(wrong) ^ {row for row, _, _ in rows})
    if disagree > 2 or moved > 4:
        fail(f"{disagree} predictions and {moved} rows differ from numpy's forward pass")
    print(f"errors: {n} of {total} misclassified images in order, each the data's image x{u} "
          f"({disagree} predictions, {moved} rows differ from numpy's float64 pass)")


def main(argv):
    if len(argv) < 2:
        fail(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "curves":
        second, expects, specs, i = "accuracy", [], [], 2
        while i < len(args):
            if args[i] == "--second":
                second, i = args[i + 1], i + 2
            elif args[i] == "--expect":
                expects.append(args[i + 1])
                i += 2
            else:
                specs.append(args[i])
                i += 1
        check_curves(args[0], args[1], specs, second, expects)
    elif cmd == "confusion":
        check_confusion(*args)
    elif cmd == "errors":
        check_errors(*args)
    else:
        fail(f"unknown check {cmd}")


if __name__ == "__main__":
    main(sys.argv)
