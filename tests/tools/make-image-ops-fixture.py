#!/opt/lfref/bin/python
"""Developer tool (not run by CI): writes tests/data/image-ops.safetensors,
the reference for core/image-*.c and core/control-image.c, from the Python
libraries the pipelines use: PIL Image.resize, cv2.resize INTER_AREA,
cv2.Canny, transformers' CLIPImageProcessor, diffusers' VaeImageProcessor.
Run with the reference environment:
    /opt/lfref/bin/python tests/tools/make-image-ops-fixture.py

Layout: img_<i> (H, W, 3) u8 inputs; each case <op>_<n> (output) with
<op>_<n>_args (f64) holding its parameters:
    resize_<n>_args  [image, filter (0 bicubic, 1 lanczos), out_w, out_h]
    area_<n>_args    [image, out_w, out_h]
    canny_<n>_args   [image, low, high]; canny_<n> is (H, W) u8
    clip_<n>_args    [image, size, step]; clip_<n> = pixel_values[:, ::step, ::step]
    prep_<n>_args    [image, kind (0 none, 1 canny, 2 tile), low, high, rate,
                      out_w, out_h]
"""
import os

import cv2
import numpy as np
import PIL
import transformers
from diffusers.image_processor import VaeImageProcessor
from PIL import Image
from safetensors.numpy import save_file
from transformers import CLIPImageProcessor


def make_images():
    rng = np.random.default_rng(20240917)
    noise = rng.integers(0, 256, (23, 37, 3), dtype=np.uint8)  # wide, 37 × 23
    y, x = np.mgrid[0:64, 0:48]  # tall, 48 × 64
    gradient = np.stack([x * 255 // 47, y * 255 // 63, (x * 3 + y * 2) % 256],
                        -1).astype(np.uint8)
    shapes = np.full((67, 101, 3), (30, 60, 90), np.uint8)  # wide, 101 × 67
    cv2.rectangle(shapes, (10, 8), (45, 40), (250, 240, 10), -1)
    cv2.circle(shapes, (70, 35), 20, (5, 200, 120), -1)
    cv2.line(shapes, (0, 66), (100, 0), (255, 255, 255), 1)
    cv2.rectangle(shapes, (60, 50), (62, 66), (128, 0, 0), -1)
    shapes[0, :] = (200, 10, 10)  # an edge on the border row
    return [noise, gradient, shapes]


def pil_resize(img, w, h, f):
    return np.asarray(Image.fromarray(img).resize((w, h), f))


def control_prepare(img, kind, low, high, rate, w, h):
    """What the pipeline feeds the ControlNet: diffusers' resize of a PIL
    control image, then the preprocessor."""
    proc = VaeImageProcessor(vae_scale_factor=8, do_convert_rgb=True,
                             do_normalize=False)
    a = np.asarray(proc.resize(Image.fromarray(img), h, w))
    if kind == 1:
        e = cv2.Canny(a, low, high)
        return np.stack([e, e, e], -1)
    if kind == 2 and rate >= 1.1:  # sd-webui-controlnet tile_resample
        small = cv2.resize(a, (int(float(w) / float(rate)),
                               int(float(h) / float(rate))),
                           interpolation=cv2.INTER_AREA)
        return np.asarray(proc.resize(Image.fromarray(small), h, w))
    return a


def main():
    images = make_images()
    t = {f"img_{i}": im for i, im in enumerate(images)}
    cases = {"resize": [], "area": [], "canny": [], "clip": [], "prep": []}

    for i, im in enumerate(images):
        h, w = im.shape[:2]
        targets = [(1, 17), (23, 1), (w // 3, h // 3), (w + 13, h // 2)]
        if i == 0:  # upscales, and one axis at a time
            targets += [(w * 5 // 3, h * 4 // 3), (w - 1, h), (w, h + 1)]
        elif i == 1:
            targets += [(w + 7, h * 5 // 4), (w - 1, h)]
        else:
            targets += [(w * 4 // 7, h * 4 // 3)]
        for f, pf in ((0, Image.BICUBIC), (1, Image.LANCZOS)):
            for ow, oh in targets:
                cases["resize"].append(([i, f, ow, oh],
                                        pil_resize(im, ow, oh, pf)))
        for ow, oh in ((w // 2, h // 2), (w // 3, h // 3), (w // 4, h),
                       (w // 2, h // 3), (w * 2 // 3, h * 3 // 5),
                       (w - 1, h - 2), (w // 5 + 1, h // 4 + 1), (1, 1)):
            if i == 2 and ow == w - 1:
                continue
            a = cv2.resize(im, (ow, oh), interpolation=cv2.INTER_AREA)
            cases["area"].append(([i, ow, oh], a.reshape(oh, ow, 3)))
        for low, high in ((100, 200), (50, 120), (200, 100), (0, 0),
                          (20.5, 60.7)):
            cases["canny"].append(([i, low, high], cv2.Canny(im, low, high)))
        for size, step in ((32, 1), (224, 14)) if i < 2 else ():
            proc = CLIPImageProcessor(size=size, crop_size=size)
            pv = proc(Image.fromarray(im), return_tensors="np").pixel_values[0]
            cases["clip"].append(([i, size, step],
                                  np.ascontiguousarray(pv[:, ::step, ::step])))
    # (image, kind, low, high, rate, out_w, out_h)
    for args in ((0, 0, 100, 200, 2, 48, 40), (0, 1, 100, 200, 2, 48, 40),
                 (0, 2, 100, 200, 2, 48, 40), (0, 2, 100, 200, 3.5, 56, 32),
                 (1, 0, 100, 200, 2, 24, 40), (1, 1, 50, 120, 2, 40, 56),
                 (1, 2, 100, 200, 1.05, 40, 32), (1, 2, 100, 200, 64, 64, 64),
                 (2, 0, 100, 200, 2, 32, 24), (2, 1, 100, 200, 2, 64, 48),
                 (2, 1, 200, 100, 2, 48, 32), (2, 2, 100, 200, 2, 56, 40)):
        cases["prep"].append((list(args),
                              control_prepare(images[args[0]], *args[1:])))

    for op, items in cases.items():
        for n, (args, out) in enumerate(items):
            t[f"{op}_{n}"] = np.ascontiguousarray(out)
            t[f"{op}_{n}_args"] = np.asarray(args, np.float64)
    meta = {"what": __doc__.split("\n\n")[0].replace("\n", " "),
            "PIL": PIL.__version__, "cv2": cv2.__version__,
            "transformers": transformers.__version__}
    out = os.path.join(os.path.dirname(__file__), "..", "data",
                       "image-ops.safetensors")
    save_file(t, out, metadata=meta)
    print(out, os.path.getsize(out), "bytes;",
          {op: len(items) for op, items in cases.items()})


if __name__ == "__main__":
    main()
