#!/opt/lfref/bin/python
"""Developer tool (not run by CI): a tiny IP-Adapter Plus for the shared
conformance UNet and what upstream computes with it.

Writes tests/data/ip-adapter-plus-tiny.safetensors, random perturbed weights
in the published tencent-ailab layout (image_proj.latents, proj_in,
proj_out, norm_out, layers.N.0.{norm1,norm2,to_q,to_kv,to_out},
layers.N.1.{0,1,3}; ip_adapter.<2k+1>.to_{k,v}_ip.weight), and
tests/data/ip-adapter-plus.safetensors: the conformance reference image's
pixel values, the image encoder's hidden_states[-2] for it and for zeros,
the image tokens as the pipeline builds them (encode_image +
prepare_ip_adapter_image_embeds + MultiIPAdapterImageProjection) and one
UNet forward with the adapter at scale 0.8 on ref/unet.safetensors' inputs.
diffusers 0.30.3 + transformers 4.44.2 + torch 1.13, float32 CPU.

The Resampler has 4 layers: diffusers builds IPAdapterPlusImageProjection
with its default depth 4 and loads the state dict strictly, so a file with
another depth does not load there."""
import os
import sys

import torch
from diffusers import StableDiffusionPipeline
from safetensors.torch import load_file, save_file
from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "..", "..", "shared", "conformance", "sd15-tiny-seed0")
ADAPTER = "ip-adapter-plus-tiny.safetensors"
SCALE = 0.8
QUERIES, WIDTH, HEADS, DEPTH, FF_MULT = 16, 32, 1, 4, 4

torch.manual_seed(7)


def linear(rows, cols):
    return torch.randn(rows, cols) / cols ** 0.5


def norm(prefix, n, sd):
    sd[prefix + ".weight"] = 1.0 + 0.2 * torch.randn(n)
    sd[prefix + ".bias"] = 0.2 * torch.randn(n)


pipe = StableDiffusionPipeline.from_pretrained(
    DIR, safety_checker=None, requires_safety_checker=False)
unet = pipe.unet.eval()
enc_dir = os.path.join(DIR, "ip_adapter", "models", "image_encoder")
encoder = CLIPVisionModelWithProjection.from_pretrained(enc_dir).eval()
E = encoder.config.hidden_size
D = unet.config.cross_attention_dim
inner = 64 * HEADS

sd = {}
sd["image_proj.latents"] = torch.randn(1, QUERIES, WIDTH) / WIDTH ** 0.5
sd["image_proj.proj_in.weight"] = linear(WIDTH, E)
sd["image_proj.proj_in.bias"] = 0.2 * torch.randn(WIDTH)
sd["image_proj.proj_out.weight"] = linear(D, WIDTH)
sd["image_proj.proj_out.bias"] = 0.2 * torch.randn(D)
norm("image_proj.norm_out", D, sd)
for i in range(DEPTH):
    p = f"image_proj.layers.{i}"
    norm(p + ".0.norm1", WIDTH, sd)
    norm(p + ".0.norm2", WIDTH, sd)
    sd[p + ".0.to_q.weight"] = linear(inner, WIDTH)
    sd[p + ".0.to_kv.weight"] = linear(2 * inner, WIDTH)
    sd[p + ".0.to_out.weight"] = linear(WIDTH, inner)
    norm(p + ".1.0", WIDTH, sd)
    sd[p + ".1.1.weight"] = linear(FF_MULT * WIDTH, WIDTH)
    sd[p + ".1.3.weight"] = linear(WIDTH, FF_MULT * WIDTH)
# ip_adapter.<key_id> in attn_processors order, as diffusers reads them.
key_id = 1
for name in unet.attn_processors.keys():
    if name.endswith("attn1.processor"):
        continue
    if name.startswith("mid_block"):
        C = unet.config.block_out_channels[-1]
    elif name.startswith("up_blocks"):
        C = list(reversed(unet.config.block_out_channels))[int(name[10])]
    else:
        C = unet.config.block_out_channels[int(name[12])]
    sd[f"ip_adapter.{key_id}.to_k_ip.weight"] = linear(C, D)
    sd[f"ip_adapter.{key_id}.to_v_ip.weight"] = linear(C, D)
    key_id += 2
sd = {k: v.contiguous() for k, v in sorted(sd.items())}
save_file(sd, os.path.join(DATA, ADAPTER),
          metadata={"what": "tiny IP-Adapter Plus for the conformance UNet, "
                            "random weights, tencent-ailab key layout"})

pipe.register_modules(image_encoder=encoder,
                      feature_extractor=CLIPImageProcessor(
                          size=encoder.config.image_size,
                          crop_size=encoder.config.image_size))
pipe.load_ip_adapter(DATA, subfolder="", weight_name=ADAPTER,
                     image_encoder_folder=None)
pipe.set_ip_adapter_scale(SCALE)

parts = load_file(os.path.join(DIR, "ref", "ip_adapter_parts.safetensors"))
ref = load_file(os.path.join(DIR, "ref", "unet.safetensors"))
pixels = parts["pixel_values"]
with torch.no_grad():
    cond, uncond = pipe.encode_image(pixels, "cpu", 1, True)
    embeds = pipe.prepare_ip_adapter_image_embeds(pixels, None, "cpu", 1,
                                                  True)[0]
    tokens = unet.encoder_hid_proj([embeds])[0][:, 0]
    # ctx rows are [prompt 0, empty]: the image rows follow them.
    rows = torch.stack([embeds[1], embeds[0]])
    noise = unet(ref["sample"], ref["timestep"],
                 encoder_hidden_states=ref["encoder_hidden_states"],
                 added_cond_kwargs={"image_embeds": [rows]}).sample

out = {
    "pixel_values": pixels,
    "penultimate_cond": cond,
    "penultimate_uncond": uncond,
    "tokens_uncond": tokens[0],
    "tokens_cond": tokens[1],
    "ip_scale": torch.tensor(SCALE),
    "noise_pred_plus": noise,
}
save_file({k: v.contiguous() for k, v in out.items()},
          os.path.join(DATA, "ip-adapter-plus.safetensors"),
          metadata={
              "what": "IP-Adapter Plus (ip-adapter-plus-tiny.safetensors) on "
                      "the conformance model: penultimate_* = image_encoder("
                      "x, output_hidden_states=True).hidden_states[-2] for "
                      "the pixels and for zeros_like (encode_image); tokens_* "
                      "= unet.encoder_hid_proj of prepare_ip_adapter_image_"
                      "embeds' [uncond, cond]; noise_pred_plus = unet("
                      "sample, timestep, encoder_hidden_states, image_embeds "
                      "rows [cond, uncond]) of ref/unet.safetensors, plain "
                      "attention, set_ip_adapter_scale(0.8)",
              "versions": f"torch {torch.__version__}, diffusers 0.30.3"})
print({k: tuple(v.shape) for k, v in out.items()})
print("tokens cond-uncond max", (tokens[1] - tokens[0]).abs().max().item())
