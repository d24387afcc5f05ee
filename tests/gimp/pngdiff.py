#!/usr/bin/env python3
"""Compare the RGB pixels of two 8-bit PNGs (stdlib only).

usage: pngdiff.py A.png B.png --at-most N     pass if every |a-b| <= N
       pngdiff.py A.png B.png --at-least N    pass if some  |a-b| >= N
Both images must have the same size; an alpha channel must be opaque.
Prints the sizes, the max difference and its first position; exit 1 on fail.
"""
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_rgba(path):
    """Returns (width, height, rows of (r, g, b, a) tuples)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError(f'{path}: not a PNG')
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b'IHDR':
            ihdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat.append(body)
        elif kind == b'IEND':
            break
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or interlace or ctype not in CHANNELS:
        raise ValueError(f'{path}: only 8-bit non-interlaced gray/RGB(A)')
    n = CHANNELS[ctype]
    raw = zlib.decompress(b''.join(idat))
    stride, prev, rows = w * n, bytearray(w * n), []
    for y in range(h):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for x in range(stride):
            a = line[x - n] if x >= n else 0
            b = prev[x]
            c = prev[x - n] if x >= n else 0
            line[x] = (line[x] + (0, a, b, (a + b) // 2, paeth(a, b, c))[kind]) & 255
        prev = line
        px = [tuple(line[i:i + n]) for i in range(0, stride, n)]
        if n == 1:
            px = [(v[0], v[0], v[0], 255) for v in px]
        elif n == 2:
            px = [(v[0], v[0], v[0], v[1]) for v in px]
        elif n == 3:
            px = [v + (255,) for v in px]
        rows.append(px)
    return w, h, rows


def main(argv):
    if len(argv) != 5 or argv[3] not in ('--at-most', '--at-least'):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    (wa, ha, a), (wb, hb, b) = read_rgba(argv[1]), read_rgba(argv[2])
    print(f'{argv[1]}: {wa}x{ha}; {argv[2]}: {wb}x{hb}')
    if (wa, ha) != (wb, hb):
        print('FAIL: sizes differ')
        return 1
    worst, where = -1, None
    for y in range(ha):
        for x in range(wa):
            pa, pb = a[y][x], b[y][x]
            if pa[3] != 255 or pb[3] != 255:
                print(f'FAIL: pixel ({x},{y}) is not opaque: {pa} {pb}')
                return 1
            d = max(abs(pa[i] - pb[i]) for i in range(3))
            if d > worst:
                worst, where = d, (x, y, pa[:3], pb[:3])
    limit = int(argv[4])
    ok = worst <= limit if argv[3] == '--at-most' else worst >= limit
    x, y, pa, pb = where
    print(f'max difference {worst} (first at ({x},{y}): {pa} vs {pb}); '
          f'wanted {argv[3][2:]} {limit}: {"ok" if ok else "FAIL"}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
