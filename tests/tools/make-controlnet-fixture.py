#!/opt/lfref/bin/python
"""Developer tool (not run by CI): ControlNet fixtures the shared conformance
set lacks, made with upstream diffusers 0.30.3 + torch 1.13 (CPU, float32) on
the shared tiny SD-1.5 model:

- tests/data/controlnet-linfusion.safetensors: the ControlNetModel of the
  conformance folder with every attn1 named in linfusion/config.json replaced
  by LinFusion's GeneralizedLinearAttention (written below from the
  conformance README's "Semantics to match", weights from the LinFusion
  folder), same call and inputs as ref/controlnet_forward.safetensors;
- tests/data/controlnet-pipelines.safetensors: StableDiffusionControlNetPipeline
  runs (DDIM, no LinFusion) with control_guidance_start/end and guess mode on a
  40×80 control image the pipeline resizes (Lanczos) to 64×128;
- tests/data/controlnet-misfit/: a tiny random ControlNetModel (float16
  weights) whose skip channels do not fit the conformance UNet.

Usage: /opt/lfref/bin/python tests/tools/make-controlnet-fixture.py [CONFORMANCE_DIR]
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import (ControlNetModel, DDIMScheduler,
                       StableDiffusionControlNetPipeline, UNet2DConditionModel)
from PIL import Image
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "..", "..", "shared", "conformance", "sd15-tiny-seed0")
PROMPT = "a photograph of an astronaut riding a horse"
VERSIONS = f"torch {torch.__version__}, diffusers 0.30.3"


def write(path, tensors, meta):
    """float32 / uint8 arrays with the call in __metadata__ (str → str)."""
    save_numpy({k: np.ascontiguousarray(v) for k, v in tensors.items()}, path,
               metadata={k: str(v) for k, v in meta.items()})


class LinFusionAttention(torch.nn.Module):
    """Per head, N tokens: Q = elu(to_q(x + to_q_(x))) + 1, K likewise,
    V = to_v(x), out = to_out(Q (KᵀV / N) / (Q mean_N(K)ᵀ + 1e-4)); to_q_ =
    Linear → LayerNorm(1e-5) → LeakyReLU(0.01) → Linear."""

    def __init__(self, dim, heads, mid):
        super().__init__()
        self.heads = heads
        self.to_q = torch.nn.Linear(dim, dim, bias=False)
        self.to_k = torch.nn.Linear(dim, dim, bias=False)
        self.to_v = torch.nn.Linear(dim, dim, bias=False)
        self.to_out = torch.nn.ModuleList(
            [torch.nn.Linear(dim, dim), torch.nn.Dropout(0.0)])
        for name in ("to_q_", "to_k_"):
            setattr(self, name, torch.nn.Sequential(
                torch.nn.Linear(dim, mid), torch.nn.LayerNorm(mid, eps=1e-5),
                torch.nn.LeakyReLU(0.01), torch.nn.Linear(mid, dim)))

    def forward(self, x, encoder_hidden_states=None, attention_mask=None,
                **kwargs):
        assert encoder_hidden_states is None
        B, N, C = x.shape
        h, d = self.heads, C // self.heads
        q = F.elu(self.to_q(x + self.to_q_(x))) + 1.0
        k = F.elu(self.to_k(x + self.to_k_(x))) + 1.0
        v = self.to_v(x)
        q, k, v = (t.view(B, N, h, d).transpose(1, 2) for t in (q, k, v))
        kv = k.transpose(-2, -1) @ v / N
        z = q @ k.mean(dim=-2, keepdim=True).transpose(-2, -1) + 1e-4
        o = (q @ kv / z).transpose(1, 2).reshape(B, N, C)
        return self.to_out[1](self.to_out[0](o))


def mount_linfusion(model):
    """Replaces each listed attn1 the model has; returns how many."""
    cfg = json.load(open(os.path.join(DIR, "linfusion", "config.json")))
    sd = load_file(os.path.join(DIR, "linfusion",
                                "diffusion_pytorch_model.safetensors"))
    names = dict(model.named_modules())
    n = 0
    for i, m in enumerate(cfg["modules_list"]):
        if m["module_name"] not in names:
            continue
        mid = m["projection_mid_dim"] or m["dim_n"]
        mod = LinFusionAttention(m["dim_n"], m["heads"], mid)
        mod.load_state_dict({k[len(f"{i}."):]: v for k, v in sd.items()
                             if k.startswith(f"{i}.")}, strict=True)
        parent, _, leaf = m["module_name"].rpartition(".")
        setattr(model.get_submodule(parent), leaf, mod)
        n += 1
    return n


def make_linfusion():
    ref = load_file(os.path.join(DIR, "ref", "unet.safetensors"))
    cref = load_file(os.path.join(DIR, "ref", "controlnet_forward.safetensors"))
    cn = ControlNetModel.from_pretrained(os.path.join(DIR, "controlnet")).eval()
    cond = cref["control_image_f"].repeat(2, 1, 1, 1)
    with torch.no_grad():
        down0, mid0 = cn(ref["sample"], 500,
                         encoder_hidden_states=ref["encoder_hidden_states"],
                         controlnet_cond=cond, conditioning_scale=1.0,
                         return_dict=False)
    # The plain model reproduces the shared file (to float rounding).
    err = max((d - cref[f"down_res_{i}"]).abs().max().item()
              for i, d in enumerate(down0))
    err = max(err, (mid0 - cref["mid_res"]).abs().max().item())
    print(f"plain ControlNet vs ref/controlnet_forward: max |diff| {err:.3g}")
    assert err < 1e-5 * cref["mid_res"].abs().max().item() + 1e-6
    n = mount_linfusion(cn)
    assert n == 7, n  # 3 cross-attention levels × 2 down, + the mid block
    with torch.no_grad():
        down, mid = cn(ref["sample"], 500,
                       encoder_hidden_states=ref["encoder_hidden_states"],
                       controlnet_cond=cond, conditioning_scale=1.0,
                       return_dict=False)
    out = {f"down_res_{i}": d.numpy() for i, d in enumerate(down)}
    out["mid_res"] = mid.numpy()
    write(os.path.join(DATA, "controlnet-linfusion.safetensors"), out,
          {"what": "ControlNetModel of sd15-tiny-seed0 with LinFusion on every "
                   "attn1 it has (down and mid blocks, modules from linfusion/)",
           "call": "controlnet(sample, 500, encoder_hidden_states=ctx, "
                   "controlnet_cond=control_image_f.repeat(2,1,1,1), "
                   "conditioning_scale=1.0); sample, ctx from ref/unet.safetensors, "
                   "control_image_f from ref/controlnet_forward.safetensors",
           "modules_mounted": str(n),
           "versions": VERSIONS})


def control_image():
    """A smooth colourful 40 wide × 80 high RGB u8 pattern."""
    y, x = np.mgrid[0:80, 0:40].astype(np.float32)
    r = 127.5 + 127.5 * np.sin(x / 6.0 + y / 17.0)
    g = 127.5 + 127.5 * np.cos(y / 9.0 - x / 13.0)
    b = 255.0 * (x + y) / (39 + 79)
    return np.clip(np.stack([r, g, b], -1) + 0.5, 0, 255).astype(np.uint8)


def make_pipelines():
    from transformers import CLIPTextModel, CLIPTokenizer
    from diffusers import AutoencoderKL
    pipe = StableDiffusionControlNetPipeline(
        vae=AutoencoderKL.from_pretrained(os.path.join(DIR, "vae")),
        text_encoder=CLIPTextModel.from_pretrained(os.path.join(DIR, "text_encoder")),
        tokenizer=CLIPTokenizer.from_pretrained(os.path.join(DIR, "tokenizer")),
        unet=UNet2DConditionModel.from_pretrained(os.path.join(DIR, "unet")),
        controlnet=ControlNetModel.from_pretrained(os.path.join(DIR, "controlnet")),
        scheduler=DDIMScheduler.from_pretrained(os.path.join(DIR, "schedulers", "ddim")),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    seen = []
    forward = pipe.controlnet.forward

    def spy(*args, **kwargs):
        seen.append(kwargs["controlnet_cond"].detach().clone())
        return forward(*args, **kwargs)

    pipe.controlnet.forward = spy
    torch.manual_seed(7)
    init = torch.randn(1, 4, 16, 8)
    u8 = control_image()
    out = {"init_noise": init.numpy(), "control_image_u8": u8}
    runs = {
        "range": dict(control_guidance_start=0.2, control_guidance_end=0.8,
                      controlnet_conditioning_scale=0.7),
        "guess": dict(guess_mode=True, controlnet_conditioning_scale=0.9),
    }
    meta = {"what": "StableDiffusionControlNetPipeline on sd15-tiny-seed0 "
                    "(controlnet/, DDIM schedulers/ddim, no LinFusion)",
            "versions": VERSIONS}
    common = dict(prompt=PROMPT, negative_prompt="", image=Image.fromarray(u8),
                  height=128, width=64, num_inference_steps=5,
                  guidance_scale=7.5, eta=0.0)
    for name, kw in runs.items():
        seen.clear()
        steps = []
        res = pipe(**common, **kw, latents=init.clone(), output_type="pt",
                   callback_on_step_end=lambda p, i, t, d: steps.append(
                       d["latents"].clone()) or d)
        out[f"{name}_final_latents"] = steps[-1].numpy()
        out[f"{name}_image"] = res.images.numpy()
        cond = seen[0][:1]
        if "control_image_f" in out:
            assert np.array_equal(out["control_image_f"], cond.numpy())
        out["control_image_f"] = cond.numpy()
        meta[name] = (f"pipe(prompt={PROMPT!r}, negative_prompt='', "
                      "image=Image.fromarray(control_image_u8), height=128, "
                      "width=64, num_inference_steps=5, guidance_scale=7.5, eta=0.0, "
                      "latents=init_noise, output_type='pt', "
                      + ", ".join(f"{k}={v!r}" for k, v in kw.items()) + ")"
                      f"; ControlNet called {len(seen)} times, batch "
                      f"{seen[0].shape[0]}")
    meta["init_noise"] = "torch.manual_seed(7); torch.randn(1, 4, 16, 8)"
    meta["control_image_f"] = ("controlnet_cond the pipeline passed (first batch "
                               "entry): control_image_u8 Lanczos-resized to 64x128, /255")
    write(os.path.join(DATA, "controlnet-pipelines.safetensors"), out, meta)


def make_misfit():
    """Skip channels (8, 8, 8, 8) against the conformance UNet's (16, …, 32)."""
    torch.manual_seed(11)
    cn = ControlNetModel(
        in_channels=4, block_out_channels=(8, 8, 8, 8), layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                          "CrossAttnDownBlock2D", "DownBlock2D"),
        attention_head_dim=2, norm_num_groups=4, cross_attention_dim=32,
        conditioning_embedding_out_channels=(4, 8)).eval()
    with torch.no_grad():
        for p in cn.parameters():
            p.add_(0.1 * torch.randn_like(p))
    folder = os.path.join(DATA, "controlnet-misfit")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    cn.save_pretrained(folder, variant=None)
    # float16 to exercise the conversion as well
    path = os.path.join(folder, "diffusion_pytorch_model.safetensors")
    sd = {k: v.half() for k, v in load_file(path).items()}
    save_file(sd, path, metadata={"format": "pt"})


def main():
    torch.set_num_threads(1)
    make_linfusion()
    make_pipelines()
    make_misfit()


if __name__ == "__main__":
    main()
