#!/opt/lfref/bin/python
"""Developer tool for the benchmarks (not run by CI; never commit its output):
writes a full-size SD-1.5 diffusers folder with random weights (upstream
classes built from the published configs, their own initialisation, stored as
fp16 like the common release files) and a random LinFusion-1-5 folder (16
modules, heads 8, projection_mid_dim null as Yuanshi/LinFusion-1-5), a
ControlNet (ControlNetModel.from_unet, as the v1.1 models are shaped) and an
IP-Adapter in h94/IP-Adapter's layout (ip_adapter/models/ip-adapter_sd15
.safetensors + image_encoder/, a ViT-H/14 CLIPVisionModelWithProjection).

    /opt/lfref/bin/python bench/make-sd15-random.py OUT_DIR [TOKENIZER_DIR]
    /opt/lfref/bin/python bench/make-sd15-random.py --adapters OUT_DIR

TOKENIZER_DIR (a CLIP tokenizer folder) is linked, not copied; it defaults to
the shared conformance set's.
"""
import json
import os
import sys

import torch
from diffusers import (AutoencoderKL, ControlNetModel, DDIMScheduler,
                       UNet2DConditionModel)
from safetensors.torch import save_file
from transformers import (CLIPTextConfig, CLIPTextModel, CLIPVisionConfig,
                          CLIPVisionModelWithProjection)

HERE = os.path.dirname(os.path.abspath(__file__))
UNET = dict(attention_head_dim=8, block_out_channels=[320, 640, 1280, 1280],
            cross_attention_dim=768, layers_per_block=2, sample_size=64,
            down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
            up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3)
VAE = dict(block_out_channels=[128, 256, 512, 512], latent_channels=4,
           layers_per_block=2, sample_size=512,
           down_block_types=["DownEncoderBlock2D"] * 4,
           up_block_types=["UpDecoderBlock2D"] * 4)
TEXT = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
            num_attention_heads=12, max_position_embeddings=77,
            hidden_act="quick_gelu", projection_dim=768)


def save(model, folder, weights):
    os.makedirs(folder, exist_ok=True)
    model.save_config(folder) if hasattr(model, "save_config") else \
        model.config.to_json_file(os.path.join(folder, "config.json"))
    state = {k: v.half().contiguous() for k, v in model.state_dict().items()
             if "position_ids" not in k}
    save_file(state, os.path.join(folder, weights))


def linfusion(unet, folder):
    modules, state = [], {}
    g = torch.Generator().manual_seed(1)
    for name, m in unet.named_modules():
        if not name.endswith("attn1"):
            continue
        i, c = len(modules), m.to_q.weight.shape[0]
        modules.append({"module_name": name, "dim_n": c, "heads": m.heads,
                        "projection_mid_dim": None})
        def lin(key, o, n, bias=True):
            state[f"{i}.{key}.weight"] = torch.randn(o, n, generator=g) / n ** 0.5
            if bias:
                state[f"{i}.{key}.bias"] = torch.randn(o, generator=g) * 0.02
        for p in ("q", "k", "v"):
            lin(f"to_{p}", c, c, bias=False)
        lin("to_out.0", c, c)
        for p in ("q", "k"):
            lin(f"to_{p}_.0", c, c)
            state[f"{i}.to_{p}_.1.weight"] = 1 + 0.1 * torch.randn(c, generator=g)
            state[f"{i}.to_{p}_.1.bias"] = 0.1 * torch.randn(c, generator=g)
            lin(f"to_{p}_.3", c, c)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"_class_name": "LinFusion", "modules_list": modules}, f, indent=2)
    save_file({k: v.half().contiguous() for k, v in state.items()},
              os.path.join(folder, "diffusion_pytorch_model.safetensors"))


def ip_adapter(unet, folder):
    """ip-adapter_sd15: image_proj (Linear 1024 → 4·768, LayerNorm) and
    to_k_ip / to_v_ip for every attn2, keys 1, 3, 5, … in the original
    attn_processors order."""
    vit_h = CLIPVisionConfig(hidden_size=1280, intermediate_size=5120,
                             num_hidden_layers=32, num_attention_heads=16,
                             image_size=224, patch_size=14, projection_dim=1024,
                             hidden_act="gelu", layer_norm_eps=1e-5)
    save(CLIPVisionModelWithProjection(vit_h),
         os.path.join(folder, "image_encoder"), "model.safetensors")
    g = torch.Generator().manual_seed(2)
    state = {"image_proj.proj.weight": torch.randn(4 * 768, 1024, generator=g) / 32,
             "image_proj.proj.bias": torch.zeros(4 * 768),
             "image_proj.norm.weight": torch.ones(768),
             "image_proj.norm.bias": torch.zeros(768)}
    names = [n for n in unet.attn_processors if n.endswith("attn2.processor")]
    for k, name in enumerate(names):
        c = 1280 if name.startswith("mid") else unet.get_submodule(
            name[:-len(".processor")]).to_q.weight.shape[0]
        for p in ("k", "v"):
            state[f"ip_adapter.{2 * k + 1}.to_{p}_ip.weight"] = \
                torch.randn(c, 768, generator=g) / 768 ** 0.5
    save_file({k: v.half().contiguous() for k, v in state.items()},
              os.path.join(folder, "ip-adapter_sd15.safetensors"))


def adapters(out):
    unet = UNet2DConditionModel.from_pretrained(os.path.join(out, "unet"))
    save(ControlNetModel.from_unet(unet), os.path.join(out, "controlnet"),
         "diffusion_pytorch_model.safetensors")
    ip_adapter(unet, os.path.join(out, "ip_adapter", "models"))


def main():
    if sys.argv[1] == "--adapters":
        adapters(sys.argv[2])
        print("wrote", sys.argv[2])
        return
    out = sys.argv[1]
    tok = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        HERE, "..", "..", "shared", "conformance", "sd15-tiny-seed0", "tokenizer")
    torch.manual_seed(0)
    os.makedirs(out, exist_ok=True)
    unet = UNet2DConditionModel(**UNET)
    save(unet, os.path.join(out, "unet"), "diffusion_pytorch_model.safetensors")
    save(AutoencoderKL(**VAE), os.path.join(out, "vae"),
         "diffusion_pytorch_model.safetensors")
    save(CLIPTextModel(CLIPTextConfig(**TEXT)), os.path.join(out, "text_encoder"),
         "model.safetensors")
    DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                  steps_offset=1, set_alpha_to_one=False, clip_sample=False
                  ).save_config(os.path.join(out, "scheduler"))
    link = os.path.join(out, "tokenizer")
    if not os.path.exists(link):
        os.symlink(os.path.abspath(tok), link)
    with open(os.path.join(out, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableDiffusionPipeline",
                   "scheduler": ["diffusers", "DDIMScheduler"],
                   "text_encoder": ["transformers", "CLIPTextModel"],
                   "tokenizer": ["transformers", "CLIPTokenizer"],
                   "unet": ["diffusers", "UNet2DConditionModel"],
                   "vae": ["diffusers", "AutoencoderKL"]}, f, indent=2)
    linfusion(unet, os.path.join(out, "linfusion"))
    adapters(out)
    print("wrote", out)


if __name__ == "__main__":
    main()
