#!/opt/lfref/bin/python
"""Developer tool (not run by CI): pipeline fixtures the shared conformance set
lacks, made with upstream diffusers 0.30.3 + torch 1.13 (CPU, float32) on the
shared tiny SD-1.5 model, original attention:

- img2img_ddim_seed: StableDiffusionImg2ImgPipeline, DDIM, strength 0.6, seed 42:
  posterior sampling and noise from the seeded generator;
- t2i_euler_a_seed: StableDiffusionPipeline, Euler ancestral, seed 1234: the
  initial noise and every step's noise from one generator.

Writes tests/data/pipelines-seeded.safetensors. Usage:
    /opt/lfref/bin/python tests/tools/make-pipeline-fixture.py [CONFORMANCE_DIR]
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from diffusers import (DDIMScheduler, EulerAncestralDiscreteScheduler,
                       StableDiffusionImg2ImgPipeline, StableDiffusionPipeline)

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "..", "..", "shared", "conformance", "sd15-tiny-seed0")
PROMPT = "a photograph of an astronaut riding a horse"
NEG = "blurry, low quality"


def write(path, tensors, meta):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dt = {np.dtype("float32"): "F32", np.dtype("uint8"): "U8"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def run(pipe, **kw):
    """Final latents and the float image of one seeded run (run twice)."""
    seed = kw.pop("seed")
    lat = pipe(**kw, generator=torch.Generator().manual_seed(seed),
               output_type="latent").images
    img = pipe(**kw, generator=torch.Generator().manual_seed(seed),
               output_type="pt").images
    return lat.numpy(), img.numpy()


def main():
    torch.set_num_threads(1)
    out = {}
    t2i = StableDiffusionPipeline.from_pretrained(
        DIR, safety_checker=None, requires_safety_checker=False)
    t2i.set_progress_bar_config(disable=True)

    t2i.scheduler = EulerAncestralDiscreteScheduler.from_config(
        t2i.scheduler.config)
    lat, img = run(t2i, prompt=PROMPT, negative_prompt=NEG, height=128,
                   width=64, num_inference_steps=6, guidance_scale=6.0,
                   seed=1234)
    out["t2i_euler_a_seed_latents"], out["t2i_euler_a_seed_image"] = lat, img

    rng = np.random.default_rng(7)
    init = rng.integers(0, 256, size=(128, 64, 3), dtype=np.uint8)
    # Smooth it so the VAE sees an image, not noise.
    init = ((init.astype(np.float32) + np.roll(init, 1, 0) + np.roll(init, 1, 1))
            / 3).astype(np.uint8)
    out["img2img_init_u8"] = init
    from PIL import Image
    i2i = StableDiffusionImg2ImgPipeline(**t2i.components)
    i2i.scheduler = DDIMScheduler.from_pretrained(os.path.join(DIR, "schedulers", "ddim"))
    i2i.set_progress_bar_config(disable=True)
    lat, img = run(i2i, prompt=PROMPT, negative_prompt="", image=Image.fromarray(init),
                   strength=0.6, num_inference_steps=10, guidance_scale=7.5,
                   seed=42, eta=0.0)
    out["img2img_ddim_seed_latents"], out["img2img_ddim_seed_image"] = lat, img

    write(os.path.join(HERE, "..", "data", "pipelines-seeded.safetensors"), out,
          {"what": "seeded pipeline runs on sd15-tiny-seed0 (original attention)",
           "t2i_euler_a_seed": f"prompt={PROMPT!r} negative={NEG!r} 64x128 steps 6 "
                               "guidance 6.0 seed 1234 EulerAncestral from the model's scheduler config",
           "img2img_ddim_seed": f"prompt={PROMPT!r} negative='' init=img2img_init_u8 strength 0.6 "
                                "steps 10 guidance 7.5 seed 42 DDIM schedulers/ddim",
           "versions": f"torch {torch.__version__}, diffusers 0.30.3"})


if __name__ == "__main__":
    main()
