#!/opt/lfref/bin/python
"""Developer tool (not run by CI): one UNet2DConditionModel forward of the
shared tiny SD-1.5 model at latents that are not multiples of 8 (diffusers'
forward_upsample_size path: each upsampler targets the next skip's size), with
upstream diffusers 0.30.3 + torch 1.13, float32 CPU, original attention.
Writes tests/data/unet-odd-size.safetensors."""
import os
import sys

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "..", "..", "shared", "conformance", "sd15-tiny-seed0")

torch.manual_seed(3)
unet = UNet2DConditionModel.from_pretrained(os.path.join(DIR, "unet")).eval()
out = {}
for h, w in ((12, 9), (5, 7)):
    x = torch.randn(2, 4, h, w)
    ctx = torch.randn(2, 77, unet.config.cross_attention_dim)
    with torch.no_grad():
        y = unet(x, 500, encoder_hidden_states=ctx).sample
    out[f"sample_{h}x{w}"] = x
    out[f"context_{h}x{w}"] = ctx
    out[f"out_{h}x{w}"] = y
save_file(out, os.path.join(HERE, "..", "data", "unet-odd-size.safetensors"),
          metadata={"what": "unet(sample, 500, encoder_hidden_states=context).sample "
                            "at odd latent sizes, original attention",
                    "versions": f"torch {torch.__version__}, diffusers 0.30.3"})
