#!/opt/lfref/bin/python
"""Developer tool (not run by CI): writes tests/data/sampler-steps.safetensors,
diffusers 0.30.3's schedulers run directly (no UNet) on a (1,4,8,6) latent
with a fake model output, the reference for core/samplers.c. Run with the
interpreter of the shared fixtures (torch 1.13, diffusers 0.30.3):
    /opt/lfref/bin/python tests/tools/make-sampler-fixture.py

Each case runs the img2img/text-to-image loop of the SD pipelines:
    text-to-image: latents = randn(generator) * init_noise_sigma
    img2img:       get_timesteps (strength), set_begin_index,
                   latents = add_noise (x0, randn(generator), timesteps[:1])
    per step:      m = model (scale_model_input (latents, t), t)
                   latents = step (m, t, latents, generator=generator)
with model (x, t) = 0.3 * (x / (1 + |x|)) + float32 (1e-3 * t), which the C
test reimplements. The generator that drew the noise is passed to step, as
the pipelines do, so Euler ancestral's per-step noise continues its stream.
Per case <c>: <c>.timesteps, <c>.sigmas (after strength, F64), <c>.divisor
(scale_model_input's (σ² + 1) ** 0.5 per step), <c>.init_noise_sigma,
<c>.noise, <c>.x0 and <c>.latents0 (img2img), <c>.step_latents (S, ...);
alphas_cumprod.<beta_schedule> for BETAS; metadata <c>.config (the scheduler's config as JSON) and <c>.run
("steps strength seed").
"""
import json
import os
import struct

import diffusers
import numpy as np
import torch
from diffusers import (DDIMScheduler, DPMSolverMultistepScheduler,
                       EulerAncestralDiscreteScheduler, EulerDiscreteScheduler)

SHAPE = (1, 4, 8, 6)
CONFORMANCE = "/work/shared/conformance/sd15-tiny-seed0/schedulers"

CLASSES = {"ddim": DDIMScheduler, "euler": EulerDiscreteScheduler,
           "euler_a": EulerAncestralDiscreteScheduler,
           "dpmpp_2m": DPMSolverMultistepScheduler}

# (name, class, steps, strength, seed, config overrides)
CASES = [
    ("ddim_v_leading", "ddim", 10, 1.0, 1, dict(prediction_type="v_prediction")),
    ("ddim_trailing", "ddim", 10, 1.0, 2, dict(timestep_spacing="trailing")),
    ("ddim_linspace", "ddim", 7, 1.0, 3, dict(timestep_spacing="linspace")),
    ("ddim_linear_betas", "ddim", 6, 1.0, 4,
     dict(beta_schedule="linear", beta_start=0.0001, beta_end=0.02, set_alpha_to_one=True)),
    ("ddim_clip_sample", "ddim", 8, 1.0, 15,
     dict(clip_sample=True, clip_sample_range=0.5)),
    ("euler_v", "euler", 10, 1.0, 5, dict(prediction_type="v_prediction")),
    ("euler_leading", "euler", 8, 1.0, 6, dict(timestep_spacing="leading")),
    ("euler_cosine_trailing", "euler", 9, 1.0, 7,
     dict(beta_schedule="squaredcos_cap_v2", timestep_spacing="trailing")),
    ("euler_a", "euler_a", 10, 1.0, 42, {}),
    ("euler_a_v_leading", "euler_a", 6, 1.0, 43,
     dict(prediction_type="v_prediction", timestep_spacing="leading")),
    ("dpmpp_2m_karras_8", "dpmpp_2m", 8, 1.0, 8, dict(use_karras_sigmas=True)),
    ("dpmpp_2m_karras_20", "dpmpp_2m", 20, 1.0, 9, dict(use_karras_sigmas=True)),
    ("dpmpp_2m_v", "dpmpp_2m", 10, 1.0, 10, dict(prediction_type="v_prediction")),
    ("dpmpp_2m_leading", "dpmpp_2m", 7, 1.0, 11, dict(timestep_spacing="leading")),
    ("dpmpp_2m_trailing_sigma_min", "dpmpp_2m", 16, 1.0, 12,
     dict(timestep_spacing="trailing", final_sigmas_type="sigma_min")),
    # lower_order_final only shows where the final σ is not 0
    ("dpmpp_2m_sigma_min_lof", "dpmpp_2m", 10, 1.0, 13, dict(final_sigmas_type="sigma_min")),
    ("dpmpp_2m_sigma_min_no_lof", "dpmpp_2m", 10, 1.0, 14,
     dict(final_sigmas_type="sigma_min", lower_order_final=False)),
]
for cls in ("ddim", "euler", "dpmpp_2m"):
    for strength in (0.3, 0.75):
        CASES.append((f"img2img_{cls}_{int(strength * 100)}", cls, 10, strength,
                      100 + int(strength * 100), {}))
CASES.append(("img2img_dpmpp_2m_karras_75", "dpmpp_2m", 12, 0.75, 175,
              dict(use_karras_sigmas=True)))


# the noise schedules ᾱ, bit for bit
BETAS = [("scaled_linear", 0.00085, 0.012), ("linear", 0.0001, 0.02),
         ("squaredcos_cap_v2", 0.0001, 0.02)]


def model(x, t):
    return 0.3 * (x / (1 + x.abs())) + float(np.float32(1e-3 * float(t)))


def make_scheduler(cls, overrides):
    folder = "dpmpp_2m" if cls == "euler_a" else cls
    base = CLASSES[cls].from_pretrained(os.path.join(CONFORMANCE, folder))
    return CLASSES[cls].from_config(base.config, **overrides)


def run_case(name, cls, steps, strength, seed, overrides, out):
    sched = make_scheduler(cls, overrides)
    sched.set_timesteps(steps)
    g = torch.Generator().manual_seed(seed)
    timesteps = sched.timesteps
    if strength < 1.0:
        init = min(int(steps * strength), steps)
        t_start = max(steps - init, 0)
        timesteps = sched.timesteps[t_start * sched.order:]
        if hasattr(sched, "set_begin_index"):
            sched.set_begin_index(t_start * sched.order)
        x0 = torch.linspace(-1.5, 1.5, int(np.prod(SHAPE))).reshape(SHAPE)
        noise = torch.randn(SHAPE, generator=g)
        latents = sched.add_noise(x0, noise, timesteps[:1])
        out[f"{name}.x0"] = x0
        out[f"{name}.latents0"] = latents
    else:
        noise = torch.randn(SHAPE, generator=g)
        latents = noise * sched.init_noise_sigma
        out[f"{name}.init_noise_sigma"] = torch.tensor(
            [float(sched.init_noise_sigma)], dtype=torch.float64)
    out[f"{name}.noise"] = noise
    divisors, steps_out = [], []
    for t in timesteps:
        x = sched.scale_model_input(latents, t)
        divisors.append(float((latents / x).flatten()[0]) if cls in ("euler", "euler_a") else 1.0)
        latents = sched.step(model(x, t), t, latents, generator=g).prev_sample
        steps_out.append(latents)
    out[f"{name}.timesteps"] = timesteps.to(torch.float64)
    if hasattr(sched, "sigmas") and cls != "ddim":
        begin = len(sched.timesteps) - len(timesteps)
        out[f"{name}.sigmas"] = sched.sigmas[begin:].to(torch.float64)
    out[f"{name}.divisor"] = torch.tensor(divisors, dtype=torch.float64)
    out[f"{name}.step_latents"] = torch.stack(steps_out)
    config = dict(sched.config)
    config["_class_name"] = type(sched).__name__
    return {f"{name}.config": json.dumps(config),
            f"{name}.run": f"{steps} {strength!r} {seed}"}


def write(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        dtype, np_dtype = ("F64", "<f8") if t.dtype == torch.float64 else ("F32", "<f4")
        data = t.numpy().astype(np_dtype).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    return 8 + len(h) + offset


def main():
    torch.set_num_threads(1)
    tensors, metadata = {}, {}
    for case in CASES:
        metadata.update(run_case(*case, tensors))
    for schedule, start, end in BETAS:
        sched = DDIMScheduler(beta_schedule=schedule, beta_start=start, beta_end=end)
        tensors[f"alphas_cumprod.{schedule}"] = sched.alphas_cumprod
    metadata["cases"] = ",".join(c[0] for c in CASES)
    metadata["shape"] = "x".join(map(str, SHAPE))
    metadata["versions"] = f"torch {torch.__version__}, diffusers {diffusers.__version__}"
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                       "sampler-steps.safetensors")
    print(out, write(out, tensors, metadata), "bytes")


if __name__ == "__main__":
    main()
