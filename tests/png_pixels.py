"""Pixels of a PNG for the tests' picture checks, with Python's zlib and struct alone (no
imaging library): 8-bit, non-interlaced gray, RGB or RGBA, as rsvg-convert and libpng
write them.

    from png_pixels import read_png
    width, height, rgb = read_png(path)   # rgb(x, y) -> (r, g, b), alpha dropped
"""
import struct
import zlib

CHANNELS = {0: 1, 2: 3, 6: 4}  # colour type -> samples per pixel


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    width, height, depth, ctype, _, _, interlace = header
    if depth != 8 or interlace != 0 or ctype not in CHANNELS:
        raise ValueError(f"{path}: depth {depth}, colour type {ctype}, interlace {interlace}: "
                         "only 8-bit non-interlaced gray, RGB and RGBA are read")
    bpp = CHANNELS[ctype]
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the row's filter (PNG spec 9.2)
            a = line[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + prev[i]) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + prev[i]) // 2) & 255
            elif kind == 4:
                c = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(a, prev[i], c)) & 255
        rows.append(line)
        prev = line

    def rgb(x, y):
        p = rows[y][x * bpp:(x + 1) * bpp]
        return (p[0], p[0], p[0]) if bpp == 1 else tuple(p[:3])

    return width, height, rgb
