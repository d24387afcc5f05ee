#!/usr/bin/env python3
# make-tokenizer-fixture.py: writes tests/data/tokenizer-extra.json, the
# upstream CLIP token ids of a few hundred varied prompts and the A1111
# emphasis runs of many bracket mixes. A developer tool, not run by CI.
#
# Needs transformers 4.x (its slow, pure-Python CLIPTokenizer; 5.x only has
# the Rust one) and must NOT have ftfy, so the tokenizer takes the
# BasicTokenizer path that diffusers users without ftfy get:
#   python3 -m venv /tmp/v && /tmp/v/bin/pip install 'transformers<5'
#   /tmp/v/bin/python tests/tools/make-tokenizer-fixture.py \
#       [TOKENIZER_DIR] [OUTPUT]
# TOKENIZER_DIR defaults to ../shared/conformance/sd15-tiny-seed0/tokenizer
# next to the source tree.

import importlib.util
import json
import os
import random
import re
import sys

SEED = 20240611
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WORDS = """a photograph of an astronaut riding horse castle cliff stormy sea
dramatic lighting volumetric clouds masterpiece best quality portrait woman
man cat dog forest river mountain sunset city night neon cyberpunk oil
painting watercolor sketch highly detailed sharp focus bokeh hdr octane
render unreal engine trending artstation greg rutkowski anime girl smiling
blue eyes red hair golden hour wide angle lens macro photo film grain
kodak portra hasselblad cinematic composition intricate ornate baroque""".split()

PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]
ACCENTED = ["café", "naïve", "résumé", "Ångström", "Straße", "smørrebrød",
            "œuvre", "Ærø", "İstanbul", "ǅemal", "Ǆ", "ǈ", "ſtraße", "fiancée",
            "e\u0301te\u0301", "A\u030angstro\u0308m", "ﬁnal", "Ǳ", "ĲSSEL"]
GREEK = ["ΟΔΥΣΣΕΥΣ", "Σ", "ΑΣ", "ΑΣ.", "ΑΣ'Β", "Σα", "αΣ", "ΑΣ\u0301",
         "φιλοσοφία", "Ελληνικά", "ΣΊΣΥΦΟΣ", "ΜΆΣΚΑ", "ΑΣ:Β", "ªΣ", "ΑΣ1",
         "\u0391\u0345\u03a3", "Ⓐ\u03a3"]
CYRILLIC = ["Москва", "привет", "ПРИВЕТ", "Ёлка", "ЖУРНАЛ", "українська",
            "Ўзбек", "ѢѣѲ"]
CJK = ["東京", "中文字符", "漢字", "北京烤鸭", "\uf900\uf901", "\U00020000",
       "\U0002a700", "\u3400", "\u4e00二三", "\u2f00\u2f01", "\U0002f800"]
KANA = ["ひらがな", "カタカナ", "ｶﾀｶﾅ", "東京タワー", "ー", "ゔ", "か\u3099",
        "ハ\u309a"]
HANGUL = ["한국어", "서울", "\u1100\u1161\u11a8", "ㄱㄴㄷ"]
EMOJI = ["🚀", "👍🏽", "👨\u200d👩\u200d👧", "🇫🇷", "1\ufe0f\u20e3", "❤️", "☺",
         "🙂🙂🙂", "🏳️‍🌈", "©", "™"]
COMBINING = ["a\u0300", "z\u0336\u0317\u0355", "o\u0308\u0304", "\u0301",
             "e\u0301\u0301", "n\u0303", "\u20dd"]
CONTROLS = ["\x01", "\x07", "\x1b", "\x7f", "\x85", "\u200b", "\u200d",
            "\u00ad", "\ufeff", "\ufffd", "\ue000", "\u0378", "\U000e0041",
            "\x1c", "\x0b", "\x0c", "\u061c", "\U0010fffd"]
SPACES = ["\t", "\n", "\r", "\r\n", "\u00a0", "\u2003", "\u3000", "\u2028",
          "\u2029", "\u1680", "\u202f", "\u205f", "\u180e", "\u2009",
          "\u200a", "  "]
SPECIALS = ["<|startoftext|>", "<|endoftext|>", "<|ENDOFTEXT|>",
            "<|EndOfText|>", "<|endof\x01text|>", "<|ſtartoftext|>",
            "<|endoftext", "<|<|endoftext|>", "<|endoftext|><|startoftext|>",
            "<|end\u200boftext|>"]
OTHER = ["Ⅻ", "ⅷ", "Ⓐⓑ", "ＡＢＣ", "K", "Å", "½", "²", "٣٤", "१२", "Ⅰ",
         "\u00b5", "ŉ", "ẞ", "ǰ", "ΐ", "ﬀ", "№", "…", "—", "“quoted”", "’s",
         "‘t", "'S", "'LL", "'Re", "'VE", "'M", "'D", "'T", "'ſ", "''",
         "'", "' s", "x'sy", "don't", "it's", "you're", "we've", "i'm",
         "they'll", "he'd", "O'NEILL'S"]
POOLS = [ACCENTED, GREEK, CYRILLIC, CJK, KANA, HANGUL, EMOJI, COMBINING,
         CONTROLS, SPACES, SPECIALS, OTHER]


def load_tokenizer(path):
    if importlib.util.find_spec("ftfy") is not None:
        sys.exit("ftfy is installed: uninstall it, the fixture is the no-ftfy path")
    import transformers
    if int(transformers.__version__.split(".")[0]) >= 5:
        sys.exit("transformers %s has no slow CLIPTokenizer; use 'transformers<5'"
                 % transformers.__version__)
    from transformers import CLIPTokenizer
    tok = CLIPTokenizer.from_pretrained(path)
    assert tok.fix_text is None, "the tokenizer uses ftfy"
    return tok, transformers.__version__


def random_word(rng):
    w = rng.choice(WORDS)
    style = rng.random()
    if style < 0.15:
        return w.upper()
    if style < 0.3:
        return w.capitalize()
    return w


def random_piece(rng):
    r = rng.random()
    if r < 0.35:
        return random_word(rng)
    if r < 0.45:
        return "".join(rng.choice(PUNCT) for _ in range(rng.randint(1, 6)))
    if r < 0.52:
        return str(rng.randint(0, 10 ** rng.randint(1, 9)))
    if r < 0.57:
        return "%d.%d" % (rng.randint(0, 99), rng.randint(0, 999))
    if r < 0.65:
        c = rng.choice(CONTRACTIONS)
        c = c.upper() if rng.random() < 0.3 else c
        return random_word(rng) + c
    return rng.choice(rng.choice(POOLS))


def random_prompt(rng):
    pieces = [random_piece(rng) for _ in range(rng.randint(1, 12))]
    out = ""
    for p in pieces:
        out += p + rng.choice([" ", " ", " ", "", ", ", rng.choice(SPACES)])
    return out


def fixed_prompts(rng):
    prompts = ["", " ", "   ", "\t\n\r", "\u00a0\u3000", "\x01\x02",
               "a", "A", "ab", "aaaaaaaa", "a" * 300, "x" * 1000,
               "".join(rng.choice("abcdefghijklmnopqrstuvwxyz")
                       for _ in range(400)),
               "supercalifragilisticexpialidocious" * 8,
               "!" * 200, "1234567890" * 10, "é" * 150, "東" * 100,
               " ".join(WORDS) * 2]
    for pool in POOLS:
        prompts.extend(pool)
        prompts.append(" ".join(pool))
        prompts.append("".join(pool))
    prompts.extend(w + c for w in ["cat", "IT", "Dog", "x"] for c in CONTRACTIONS)
    prompts.extend(c.upper() + " " + c for c in CONTRACTIONS)
    return prompts


def write_tokenizer_cases(tok, rng):
    prompts = fixed_prompts(rng)
    prompts += [random_prompt(rng) for _ in range(240)]
    cases = []
    for p in prompts:
        assert "\x00" not in p
        cases.append({"prompt": p, "ids": tok(p).input_ids})
    return cases


# ----------------------------------------------------------------------
# The emphasis reference: A1111's documented parse_prompt_attention
# behaviour (components.md §3.3), written out here on its own terms.

LEXER = re.compile(
    r"\\[()\[\]\\]"            # an escaped bracket or backslash
    r"|\\"                     # a lone backslash (dropped)
    r"|[(\[]"                  # an opening bracket
    r"|:\s*([+-]?[.\d]+)\s*\)" # an explicit weight closing a round bracket
    r"|[)\]]"                  # a closing bracket
    r"|[^\\()\[\]:]+"          # plain text
    r"|:")                     # a colon that is not a weight
BREAK = re.compile(r"\s*\bBREAK\b\s*")


def emphasis_runs(prompt):
    runs = []      # [text, weight]
    opened = {"(": [], "[": []}
    factor = {"(": 1.1, "[": 1 / 1.1}

    def scale(start, m):
        for run in runs[start:]:
            run[1] *= m

    for m in LEXER.finditer(prompt):
        text, weight = m.group(0), m.group(1)
        if text.startswith("\\"):
            runs.append([text[1:], 1.0])
        elif text in opened:
            opened[text].append(len(runs))
        elif weight is not None and opened["("]:
            scale(opened["("].pop(), float(weight))
        elif text == ")" and opened["("]:
            scale(opened["("].pop(), factor["("])
        elif text == "]" and opened["["]:
            scale(opened["["].pop(), factor["["])
        else:
            for i, part in enumerate(BREAK.split(text)):
                if i:
                    runs.append(["BREAK", -1.0])
                runs.append([part, 1.0])
    for kind in "([":
        for start in opened[kind]:
            scale(start, factor[kind])
    if not runs:
        runs = [["", 1.0]]
    merged = [runs[0]]
    for text, weight in runs[1:]:
        if merged[-1][1] == weight:
            merged[-1][0] += text
        else:
            merged.append([text, weight])
    return merged


EMPHASIS_FIXED = [
    "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
    "a (((house:1.3)) [on] a (hill:0.5)",
    "", "plain text", "(a)", "[a]", "((a))", "[[a]]", "(a:1.5)", "(a: 1.5 )",
    "(a:-1)", "(a:+.5)", "(a:5.)", "(a:0)", "(a:١.٥)", "(a)(b)", "[a][b]",
    "(a", "a)", "[a", "a]", "((a)", "(a))", "([a)]", "([a])", "[(a])",
    "\\(a\\)", "\\[a\\]", "\\\\", "a\\b", "\\", "(\\(a\\))", "a:b", "a:1.2)",
    "(a:b)", "(a:1.2", "a BREAK b", "aBREAK b", "a BREAKb", "BREAK",
    "BREAK BREAK", "a\tBREAK\nb", "(a BREAK b)", "(a BREAK b:2)",
    "(BREAK:0)", "a _BREAK b", "é BREAK é", "éBREAK", "a  BREAK  ", "break",
    "(masterpiece:1.2), [sharp] {focus}", "((((((((a))))))))",
    "(a:1e5)", "(a:999999999999999999999999999999)", "(a:.5.5)", ":)",
    "(:)", "(a:)", "(a:1.2)(b:1.2)", "[a:b:0.5]", "(a|b)",
    "\\(a:1.2\\)", "(a\\):1.2)", "(東京:1.3)", "(🚀)", "((a) b:0.5)",
]


def random_emphasis(rng):
    parts = ["(", ")", "[", "]", "\\(", "\\)", "\\[", "\\]", "\\\\", "\\",
             ":", ":1.2)", ": 0.5 )", ":-1)", ":2)", " ", " BREAK ", "BREAK",
             "xBREAK", "BREAK_", "é", ", ", "1.5"]
    out = ""
    for _ in range(rng.randint(1, 14)):
        out += random_word(rng) if rng.random() < 0.4 else rng.choice(parts)
    return out


def write_emphasis_cases(tok, rng):
    prompts = EMPHASIS_FIXED + [random_emphasis(rng) for _ in range(160)]
    cases = []
    for p in prompts:
        try:
            runs = emphasis_runs(p)
        except ValueError:
            cases.append({"prompt": p, "error": True})
            continue
        ids, weights, breaks = [], [], []
        for text, weight in runs:
            if text == "BREAK" and weight == -1:
                breaks.append(len(ids))
                continue
            run_ids = tok(text, add_special_tokens=False).input_ids
            ids += run_ids
            weights += [weight] * len(run_ids)
        cases.append({"prompt": p, "runs": runs, "ids": ids,
                      "weights": weights, "breaks": breaks})
    return cases


def main():
    src = os.path.join(ROOT, "..", "shared", "conformance", "sd15-tiny-seed0",
                       "tokenizer")
    path = sys.argv[1] if len(sys.argv) > 1 else src
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        ROOT, "tests", "data", "tokenizer-extra.json")
    tok, version = load_tokenizer(path)
    rng = random.Random(SEED)
    doc = {
        "about": "CLIPTokenizer (slow, no ftfy) ids, untruncated with BOS/EOS, "
                 "and A1111 emphasis runs; written by "
                 "tests/tools/make-tokenizer-fixture.py",
        "transformers": version,
        "python": sys.version.split()[0],
        "tokenizer": write_tokenizer_cases(tok, rng),
        "emphasis": write_emphasis_cases(tok, rng),
    }
    with open(out, "w", encoding="ascii") as f:
        json.dump(doc, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    print("%s: %d tokenizer cases, %d emphasis cases, %d bytes"
          % (out, len(doc["tokenizer"]), len(doc["emphasis"]),
             os.path.getsize(out)))


if __name__ == "__main__":
    main()
