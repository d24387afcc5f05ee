#!/usr/bin/env python3
# make-prompt-embedding-fixture.py: writes tests/data/prompt-embeddings.safetensors,
# the conditioning of a few prompts with AUTOMATIC1111's emphasis and long-prompt
# chunking (modules/prompt_parser.py, sd_hijack_clip.py, sd_emphasis.py "Original"),
# reimplemented here from their documented behaviour over transformers' CLIP.
# A developer tool, not run by CI:
#   /opt/lfref/bin/python tests/tools/make-prompt-embedding-fixture.py [SET_DIR] [OUTPUT]
# SET_DIR defaults to ../shared/conformance/sd15-tiny-seed0 next to the source tree
# (its tokenizer/ and text_encoder/); needs torch and transformers 4.x without ftfy.

import json
import os
import re
import struct
import sys

import torch
from transformers import CLIPTextModel, CLIPTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SET_DIR = os.path.join(os.path.dirname(ROOT), "shared", "conformance", "sd15-tiny-seed0")
OUTPUT = os.path.join(ROOT, "tests", "data", "prompt-embeddings.safetensors")

WEIGHTS = 1  # LF_PROMPT_WEIGHTS
LONG = 2     # LF_PROMPT_LONG
CHUNK = 75
BACKTRACK = 20

# ---- A1111 emphasis syntax: (a) ×1.1, [a] ÷1.1, (a:w), \( escapes, BREAK ----

TOKEN_RE = re.compile(r"\\[()\[\]\\]|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|]|[^\\()\[\]:]+|:")
BREAK_RE = re.compile(r"\s*\bBREAK\b\s*", re.S)


def split_breaks(text):
    """Text pieces with ("BREAK", -1) markers between them."""
    runs = []
    for i, piece in enumerate(BREAK_RE.split(text)):
        if i > 0:
            runs.append(["BREAK", -1.0])
        runs.append([piece, 1.0])
    return runs


def parse_attention(prompt):
    runs, rounds, squares = [], [], []

    def scale(start, factor):
        for run in runs[start:]:
            run[1] *= factor

    for m in TOKEN_RE.finditer(prompt):
        text, weight = m.group(0), m.group(1)
        if text.startswith("\\"):
            runs.append([text[1:], 1.0])
        elif text == "(":
            rounds.append(len(runs))
        elif text == "[":
            squares.append(len(runs))
        elif weight is not None and rounds:
            scale(rounds.pop(), float(weight))
        elif text == ")" and rounds:
            scale(rounds.pop(), 1.1)
        elif text == "]" and squares:
            scale(squares.pop(), 1 / 1.1)
        else:
            runs.extend(split_breaks(text))
    for start in rounds:           # unclosed brackets close at the end
        scale(start, 1.1)
    for start in squares:
        scale(start, 1 / 1.1)
    if not runs:
        runs = [["", 1.0]]
    merged = [runs[0]]
    for run in runs[1:]:           # neighbours of equal weight are one run
        if run[1] == merged[-1][1]:
            merged[-1][0] += run[0]
        else:
            merged.append(run)
    return merged


# ---- chunks of 75 tokens (sd_hijack_clip.py tokenize_line) ----

class Chunker:
    def __init__(self, tok):
        self.bos, self.eos = tok.bos_token_id, tok.eos_token_id
        self.pad = tok.pad_token_id
        self.comma = tok.convert_tokens_to_ids(",</w>")
        self.chunks, self.ids, self.weights, self.last_comma = [], [], [], -1

    def next(self):
        fill = CHUNK - len(self.ids)
        ids = [self.bos] + self.ids + [self.eos] * fill + [self.eos]
        weights = [1.0] + self.weights + [1.0] * fill + [1.0]
        first_eos = ids.index(self.eos)
        ids = ids[:first_eos + 1] + [self.pad] * (len(ids) - first_eos - 1)
        self.chunks.append((ids, weights))
        self.ids, self.weights, self.last_comma = [], [], -1

    def add(self, token, weight):
        if token == self.comma:
            self.last_comma = len(self.ids)
        elif (len(self.ids) == CHUNK and self.last_comma != -1
              and len(self.ids) - self.last_comma <= BACKTRACK):
            cut = self.last_comma + 1
            ids, weights = self.ids[cut:], self.weights[cut:]
            self.ids, self.weights = self.ids[:cut], self.weights[:cut]
            self.next()
            self.ids, self.weights = ids, weights
        if len(self.ids) == CHUNK:
            self.next()
        self.ids.append(token)
        self.weights.append(weight)


def chunks_of(tok, prompt, flags):
    runs = parse_attention(prompt) if flags & WEIGHTS else split_breaks(prompt)
    texts = [text for text, _ in runs]
    ids = tok(texts, truncation=False, add_special_tokens=False)["input_ids"]
    ch = Chunker(tok)
    if not flags & LONG:           # diffusers: the first 75 tokens, BREAK ignored
        flat = [(t, w) for (text, w), run in zip(runs, ids)
                if not (text == "BREAK" and w == -1) for t in run]
        for t, w in flat[:CHUNK]:
            ch.add(t, w)
        ch.next()
        return ch.chunks
    for (text, weight), run in zip(runs, ids):
        if text == "BREAK" and weight == -1:
            ch.next()
            continue
        for t in run:
            ch.add(t, weight)
    if ch.ids or not ch.chunks:
        ch.next()
    return ch.chunks


@torch.no_grad()
def encode(model, tok, prompt, flags, clip_skip):
    zs = []
    for ids, weights in chunks_of(tok, prompt, flags):
        out = model(input_ids=torch.tensor([ids]), output_hidden_states=True)
        if clip_skip:
            z = model.text_model.final_layer_norm(out.hidden_states[-(clip_skip + 1)])
        else:
            z = out.last_hidden_state
        if flags & WEIGHTS:        # sd_emphasis.py EmphasisOriginal
            before = z.mean()
            z = z * torch.tensor(weights, dtype=torch.float32)[None, :, None]
            z = z * (before / z.mean())
        zs.append(z)
    return torch.cat(zs, dim=1)


WORDS = ("castle tower bridge river forest mountain valley meadow village harbor "
         "lantern garden temple market road field cloud storm ship sail").split()


def words(n, start=0):
    return " ".join(WORDS[(start + i) % len(WORDS)] for i in range(n))


CASES = [
    # emphasis only; the unclosed bracket closes at the end
    ("a (photograph:1.3) of an ((astronaut)) riding a [horse], \\(literal\\) "
     "(masterpiece:0.7) [[blurry", WEIGHTS, 0),
    # long, literal: brackets stay text. Chunk 1: a comma 13 tokens before
    # the chunk fills moves the rest on; chunk 2: a comma 56 back does not;
    # chunk 3 fills just as a comma comes, which opens chunk 4; BREAK, chunk 5
    (words(24) + ", (red:1.5) " + words(30, 3) + ", " + words(14, 7) + " "
     + words(5, 1) + ", " + words(56, 2) + " " + words(74, 4) + ", "
     + words(22, 6) + " BREAK " + words(12, 5), LONG, 0),
    # both: weights travel with the relocated tokens, BREAK as A1111 parses it
    ("(" + words(50) + ":1.2), [" + words(10, 4) + "], (" + words(14, 9)
     + ":1.3) (glowing:1.4) " + words(8) + " BREAK (" + words(6, 1) + ")",
     WEIGHTS | LONG, 0),
    # emphasis past 75 tokens without LONG: truncated, BREAK ignored; clip skip
    ("(" + words(40) + ":0.8) BREAK [" + words(45, 6) + "]", WEIGHTS, 1),
]


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    # byte tensors last, so every number stays aligned in the mapped file
    for name, (dtype, shape, data) in sorted(tensors.items(), key=lambda t: t[1][0] == "U8"):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"what": "A1111 emphasis/long-prompt conditioning, "
                              "tests/tools/make-prompt-embedding-fixture.py"}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    set_dir = sys.argv[1] if len(sys.argv) > 1 else SET_DIR
    output = sys.argv[2] if len(sys.argv) > 2 else OUTPUT
    tok = CLIPTokenizer.from_pretrained(os.path.join(set_dir, "tokenizer"))
    model = CLIPTextModel.from_pretrained(os.path.join(set_dir, "text_encoder")).eval()
    tensors = {}
    for i, (prompt, flags, clip_skip) in enumerate(CASES):
        z = encode(model, tok, prompt, flags, clip_skip).contiguous()
        n_chunks = len(chunks_of(tok, prompt, flags))
        print(f"case {i}: flags {flags} clip_skip {clip_skip} chunks {n_chunks} shape {list(z.shape)}")
        text = prompt.encode()
        tensors[f"prompt_utf8_{i}"] = ("U8", [len(text)], text)
        tensors[f"flags_{i}"] = ("I32", [2], struct.pack("<2i", flags, clip_skip))
        tensors[f"embedding_{i}"] = ("F32", list(z.shape), z.numpy().tobytes())
    write_safetensors(output, tensors)
    print(f"wrote {output} ({os.path.getsize(output)} bytes)")


if __name__ == "__main__":
    main()
