#!/usr/bin/python3
"""Developer tool (not run by CI): writes tests/data/torch-randn.safetensors,
torch.randn for several seeds and shapes drawn from torch's CPU generator, the
reference for core/rng.c. Run with Debian's python3-torch:
    /usr/bin/python3 tests/tools/make-rng-fixture.py
"""
import json
import os
import struct

import torch

CASES = [
    # (seed, shape): sizes below 16, multiples of 16, and ragged tails
    (0, (1, 4, 16, 8)),
    (0, (7,)),
    (1, (15,)),
    (2, (16,)),
    (3, (17,)),
    (42, (1, 4, 13, 9)),
    (12345, (2, 4, 64, 64)),
    (2**32 + 7, (1, 4, 8, 8)),
    (4294967295, (3, 33)),
]


def main():
    tensors = {}
    for seed, shape in CASES:
        g = torch.Generator().manual_seed(seed)
        tensors[f"randn_{seed}_{'x'.join(map(str, shape))}"] = torch.randn(shape, generator=g)
    # Successive draws continue one stream (ancestral samplers, img2img).
    g = torch.Generator().manual_seed(7)
    tensors["stream_7_a_5"] = torch.randn((5,), generator=g)
    tensors["stream_7_b_40"] = torch.randn((40,), generator=g)
    tensors["stream_7_c_3"] = torch.randn((3,), generator=g)

    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"what": "torch.randn(shape, generator=torch.Generator().manual_seed(seed))",
                              "torch": torch.__version__}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    out = os.path.join(os.path.dirname(__file__), "..", "data", "torch-randn.safetensors")
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    print(out, offset, "bytes of data")


if __name__ == "__main__":
    main()
