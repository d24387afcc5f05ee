#!/usr/bin/env python3
"""Convert an X window dump (`xwd -root`, TrueColor ZPixmap, 24 or 32 bits
per pixel) to an RGB PNG, stdlib only.  usage: xwd2png.py IN.xwd OUT.png"""
import struct
import sys
import zlib


def low_bit(mask):
    return (mask & -mask).bit_length() - 1


def xwd_rows(data):
    head = struct.unpack('>25I', data[:100])
    header_size, fmt, width, height = head[0], head[2], head[4], head[5]
    lsb_first, bits_per_pixel, line_bytes = head[7] == 0, head[11], head[12]
    masks = head[14:17]
    if fmt != 2 or bits_per_pixel not in (24, 32):
        raise ValueError('only 24/32-bit ZPixmap dumps')
    size = bits_per_pixel // 8
    start = header_size + head[19] * 12          # the colormap entries follow the header
    order = 'little' if lsb_first else 'big'
    shifts = [low_bit(m) for m in masks]
    for y in range(height):
        line = data[start + y * line_bytes:start + y * line_bytes + width * size]
        row = bytearray()
        for x in range(0, width * size, size):
            p = int.from_bytes(line[x:x + size], order)
            row += bytes((p & m) >> s for m, s in zip(masks, shifts))
        yield width, height, bytes(row)


def main(src, dst):
    with open(src, 'rb') as f:
        rows = list(xwd_rows(f.read()))
    width, height = rows[0][0], rows[0][1]

    def chunk(kind, body):
        return (struct.pack('>I', len(body)) + kind + body
                + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff))
    raw = b''.join(b'\0' + r[2] for r in rows)
    with open(dst, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n')
        f.write(chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b'IDAT', zlib.compress(raw, 6)))
        f.write(chunk(b'IEND', b''))
    print(f'{dst}: {width}x{height}')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
