#!/usr/bin/env python3
"""Write an 8-bit RGB PNG test pattern (stdlib only).

usage: pattern.py WIDTH HEIGHT CELL OUT.png
A checkerboard of CELL-pixel squares whose light squares vary along x, so
that Canny finds edges; the same pattern as tests/cli/test-generate-adapters.c.
"""
import struct
import sys
import zlib


def chunk(kind, body):
    return (struct.pack('>I', len(body)) + kind + body
            + struct.pack('>I', zlib.crc32(kind + body)))


def main():
    w, h, cell = (int(a) for a in sys.argv[1:4])
    rows = []
    for y in range(h):
        row = bytearray(b'\0')                     # filter: none
        for x in range(w):
            for c in range(3):
                light = (x // cell + y // cell) % 2 != 0
                row.append(64 + (x * 3 + c * 50) % 190 if light else c * 20)
        rows.append(bytes(row))
    png = (b'\x89PNG\r\n\x1a\n'
           + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
           + chunk(b'IDAT', zlib.compress(b''.join(rows)))
           + chunk(b'IEND', b''))
    with open(sys.argv[4], 'wb') as f:
        f.write(png)


if __name__ == '__main__':
    main()
