# shellcheck shell=bash
# cases.sh -- the test cases of tests/gimp/run (sourced; uses its helpers).
# Each test_NAME runs one GIMP (one Script-Fu test from scm/) plus its checks
# and reports exactly one result.
# shellcheck disable=SC2154  # kind, MODEL, W, … are set by run

# generate: a layer of the requested size, named after the prompt, on top;
# its pixels equal the CLI's for the same settings and seed.
test_generate () {
  local s=(prompt "a red cube on a table" negative-prompt "blurry" model "$MODEL"
           linfusion "$MODEL/linfusion" width 64 height 96 steps 3 guidance 7.5
           seed 42 sampler dpmpp-2m)
  new_work "$1"
  batch "(begin $(loads generate) (lf-test-generate (lambda (img drawables)
    (plug-in-linfusion-generate #:run-mode RUN-NONINTERACTIVE #:image img
      #:drawables drawables$(scm_args "${s[@]}"))) 64 96 \"${s[1]}\" \"$W/gimp.png\"))"
  if [ "$RC" != 0 ] || ! grep -q '^LF-OK generate' "$ROOT$W/gimp.log"; then
    result "$1" FAILED "$(why)"
  elif ! cli "$W/cli.png" "${s[@]}"; then
    result "$1" FAILED "the CLI failed: $(tail -n 1 "$ROOT$W/cli.log")"
  elif ! pngdiff "$W/gimp.png" "$W/cli.png" --at-most 1; then
    result "$1" FAILED "pixels differ from the CLI's: $(tail -n 1 "$ROOT$W/check.log")"
  else
    result "$1" ok "$(tail -n 1 "$ROOT$W/check.log" | cut -d' ' -f1-3) vs the CLI"
    save_profile
  fi
}

# img2img: the new layer sits directly above its input, differs from it and
# equals the CLI's --init-image run on the same input.
test_img2img () {
  local s=(prompt "an oil painting" negative-prompt "" model "$MODEL" width 64 height 64
           steps 3 guidance 5 seed 7 sampler ddim strength 0.6)
  new_work "$1"
  batch "(begin $(loads img2img) (lf-test-img2img (lambda (img drawables)
    (plug-in-linfusion-img2img #:run-mode RUN-NONINTERACTIVE #:image img
      #:drawables drawables$(scm_args "${s[@]}"))) 64 64 \"${s[1]}\"
    \"$W/input.png\" \"$W/gimp.png\"))"
  if [ "$RC" != 0 ] || ! grep -q '^LF-OK img2img' "$ROOT$W/gimp.log"; then
    result "$1" FAILED "$(why)"
  elif ! pngdiff "$W/input.png" "$W/gimp.png" --at-least 8; then
    result "$1" FAILED "the result equals its input"
  elif ! cli "$W/cli.png" init-image "$W/input.png" "${s[@]}"; then
    result "$1" FAILED "the CLI failed: $(tail -n 1 "$ROOT$W/cli.log")"
  elif ! pngdiff "$W/gimp.png" "$W/cli.png" --at-most 1; then
    result "$1" FAILED "pixels differ from the CLI's: $(tail -n 1 "$ROOT$W/check.log")"
  else
    result "$1" ok "$(tail -n 1 "$ROOT$W/check.log" | cut -d' ' -f1-3) vs the CLI"
  fi
}

# create: a new image of the requested size.
test_create () {
  local s=(prompt "a small house" model "$MODEL" width 64 height 96 steps 3 seed 3
           sampler euler)
  new_work "$1"
  batch "(begin $(loads create) (lf-test-create (lambda ()
    (plug-in-linfusion-create #:run-mode RUN-NONINTERACTIVE$(scm_args "${s[@]}"))) 64 96))"
  if [ "$RC" = 0 ] && grep -q '^LF-OK create' "$ROOT$W/gimp.log"; then
    result "$1" ok "64x96 image"
  else
    result "$1" FAILED "$(why)"
  fi
}

# bad-model: exit status 70, the path in the message, the layers unchanged.
test_bad_model () {
  local bad=/nonexistent/linfusion-no-such-model
  local s=(prompt "never drawn" model "$bad" width 64 height 64 steps 3 seed 1)
  new_work "$1"
  batch "(begin $(loads bad-model) (lf-test-bad-model (lambda (img drawables)
    (plug-in-linfusion-generate #:run-mode RUN-NONINTERACTIVE #:image img
      #:drawables drawables$(scm_args "${s[@]}")))))"
  if [ "$RC" != 70 ]; then
    result "$1" FAILED "exit status $RC, wanted 70: $(why)"
    return
  elif ! grep -q '^LF-COUNT-UNCHANGED' "$ROOT$W/gimp.log"; then
    result "$1" FAILED "$(why)"
    return
  fi
  # GIMP prints the error between these two lines (the second one echoes the
  # batch command, which names the path too)
  local msg
  msg=$(sed -n '/^batch command experienced an execution error/,/^Stopping at failing batch/p' \
          "$ROOT$W/gimp.log" | sed '1d;$d')
  if [[ $msg != *"$bad"* ]]; then
    result "$1" FAILED "the message does not name $bad: ${msg:0:200}"
  else
    result "$1" ok "exit 70: $(grep -m1 -F "$bad" <<<"$msg" | cut -c1-160)"
  fi
}

# controlnet: a PNG loaded as an image is the control layer; the new layer
# equals the CLI's --control-image run on that PNG.  Settings both front ends
# name alike are in s, the differently named ones are given to each.
# One control run: GIMP with the PNG's layer as control layer, then the CLI
# with the same settings (@flag: a boolean argument / option without value).
controlnet_run () {                        # controlnet_run NAME KEY VALUE...
  local name=$1
  shift
  batch "(begin $(loads controlnet) (lf-test-controlnet (lambda (img drawables control)
    (plug-in-linfusion-generate #:run-mode RUN-NONINTERACTIVE #:image img
      #:drawables drawables #:control-layer control$(scm_args "$@" \
      control-model "$MODEL/controlnet"))) 64 96 \"$2\"
    \"$W/control.png\" \"$W/gimp-$name.png\"))"
  if [ "$RC" != 0 ] || ! grep -q '^LF-OK controlnet' "$ROOT$W/gimp.log"; then
    echo "$name: $(why)"
  elif ! cli "$W/cli-$name.png" "$@" controlnet "$MODEL/controlnet" \
         control-image "$W/control.png"; then
    echo "$name: the CLI failed: $(tail -n 1 "$ROOT$W/cli.log")"
  elif ! pngdiff "$W/gimp-$name.png" "$W/cli-$name.png" --at-most 0; then
    echo "$name: pixels differ from the CLI's: $(tail -n 1 "$ROOT$W/check.log")"
  fi
}

# controlnet: a loaded PNG's layer guides the ControlNet (Canny; then tile
# with guess mode and LinFusion on the ControlNet); both runs equal the
# CLI's --control-image runs on the same PNG.
test_controlnet () {
  local s=(prompt "a tower" model "$MODEL" linfusion "$MODEL/linfusion" width 64
           height 96 steps 3 seed 11 sampler ddim control-scale 0.8) problem
  new_work "$1"
  in_env python3 "$SRC/tests/gimp/pattern.py" 40 80 8 "$W/control.png"
  problem=$(controlnet_run canny "${s[@]}" control-end 0.9 \
             control-preprocess canny canny-low 50 canny-high 150)
  [ -n "$problem" ] ||
    problem=$(controlnet_run tile "${s[@]}" control-preprocess tile \
               tile-rate 3 control-guess-mode @flag control-linfusion @flag)
  if [ -n "$problem" ]; then
    result "$1" FAILED "$problem"
  else
    result "$1" ok "canny and tile+guess+LinFusion: $(tail -n 1 "$ROOT$W/check.log" | cut -d' ' -f1-3) vs the CLI"
  fi
}

# ip-adapter: ip-adapter-image is a layer of another image; the new layer
# equals the CLI's --ip-adapter-image run on that layer's PNG.
test_ip_adapter () {
  local ip=$MODEL/ip_adapter/models/ip-adapter_sd15.safetensors
  local s=(prompt "a cat" model "$MODEL" linfusion "$MODEL/linfusion" width 64
           height 64 steps 3 seed 12 sampler euler ip-adapter "$ip"
           ip-adapter-scale 0.6)
  new_work "$1"
  batch "(begin $(loads ip-adapter) (lf-test-ip-adapter (lambda (img drawables reference)
    (plug-in-linfusion-generate #:run-mode RUN-NONINTERACTIVE #:image img
      #:drawables drawables #:ip-adapter-image reference$(scm_args "${s[@]}")))
    64 64 \"${s[1]}\" \"$W/reference.png\" \"$W/gimp.png\"))"
  if [ "$RC" != 0 ] || ! grep -q '^LF-OK ip-adapter' "$ROOT$W/gimp.log"; then
    result "$1" FAILED "$(why)"
  elif ! cli "$W/cli.png" "${s[@]}" ip-adapter-image "$W/reference.png"; then
    result "$1" FAILED "the CLI failed: $(tail -n 1 "$ROOT$W/cli.log")"
  elif ! pngdiff "$W/gimp.png" "$W/cli.png" --at-most 0; then
    result "$1" FAILED "pixels differ from the CLI's: $(tail -n 1 "$ROOT$W/check.log")"
  else
    result "$1" ok "$(tail -n 1 "$ROOT$W/check.log" | cut -d' ' -f1-3) vs the CLI"
  fi
}

# adapter-args: ControlNet and IP-Adapter arguments that do not fit together
# are calling errors (exit status 70, the argument named, no layer added);
# one GIMP run per case, one result for all.  LAYER stands for the image's
# layer.
test_adapter_args () {
  local ip=$MODEL/ip_adapter/models/ip-adapter_sd15.safetensors
  local cases=(
    "control-layer LAYER|“control-model”"
    "control-model $MODEL/controlnet|“control-layer”"
    "ip-adapter $ip|“ip-adapter-image” or “ip-adapter-file”"
    "ip-adapter $ip ip-adapter-image LAYER ip-adapter-file /tmp/ref.png|not both"
    "ip-adapter-image LAYER|“ip-adapter”"
    "control-layer LAYER control-model $MODEL/controlnet control-start 0.7 control-end 0.5|0.7 and 0.5"
    "control-layer LAYER control-model $MODEL/controlnet control-linfusion TRUE|(argument “linfusion”)"
  )
  local c args needle bad="" n=0 msg a
  for c in "${cases[@]}"; do
    args=${c%%|*} needle=${c#*|}
    new_work "$1"
    local scm=""
    for a in $args; do
      if [ "$a" = LAYER ]; then scm+=" layer"
      elif [ "$a" = TRUE ]; then scm+=" TRUE"
      elif [[ $a =~ ^[a-z-]+$ ]]; then scm+=" #:$a"
      elif [[ $a =~ ^[0-9.]+$ ]]; then scm+=" $a"
      else scm+=" \"$a\""; fi
    done
    batch "(begin $(loads adapter-args) (lf-test-adapter-args (lambda (img drawables layer)
      (plug-in-linfusion-generate #:run-mode RUN-NONINTERACTIVE #:image img
        #:drawables drawables #:prompt \"never drawn\" #:model \"$MODEL\"
        #:width 64 #:height 64 #:steps 2$scm))))"
    msg=$(sed -n '/^batch command experienced an execution error/,/^Stopping at failing batch/p' \
            "$ROOT$W/gimp.log" | sed '1d;$d')
    n=$((n + 1))
    if [ "$RC" != 70 ] || ! grep -q '^LF-COUNT-UNCHANGED' "$ROOT$W/gimp.log"; then
      bad+="[$args: $(why)] "
    elif [[ $msg != *"$needle"* ]]; then
      bad+="[$args: the message lacks '$needle': ${msg:0:160}] "
    fi
  done
  if [ -n "$bad" ]; then
    result "$1" FAILED "$bad"
  else
    result "$1" ok "$n calls refused with the argument named"
  fi
}

# dialog-LANG: under Xvfb, type a prompt into the dialog and press OK; a layer
# named after it appears.  Screenshots before and after typing go to $OUT.
gui_test () {
  local name=$1 lang=$2 typed=$3
  # The stand-in focuses its prompt; the real dialog (ui/dialog.c) does not
  # (yet), so the driver clicks into its prompt view, the top left of the
  # dialog.  LF_GUI_PROMPT_AT=x,y or - overrides.
  local click=${LF_GUI_PROMPT_AT:-100,100}
  [ "$kind" = standin ] && click=${LF_GUI_PROMPT_AT:--}
  local s=(prompt "from the script" model "$MODEL" width 64 height 64 steps 3 seed 5
           sampler euler)
  if ! in_env sh -c 'command -v xvfb-run && command -v xdotool && command -v xwd' >/dev/null; then
    result "$name" SKIPPED "no xvfb-run/xdotool/xwd"
    return
  fi
  new_work "$name"
  local expr
  expr="(begin $(loads dialog) (lf-test-dialog (lambda (mode img drawables)
    (plug-in-linfusion-generate #:run-mode mode #:image img
      #:drawables drawables$(scm_args "${s[@]}"))) \"$typed\"))"
  RC=0
  timeout -k 10 "$TIMEOUT" "${ENVP[@]}" "${GENV[@]}" LANG="$lang" \
    xvfb-run -a -s '-screen 0 1024x768x24' \
    bash "$SRC/tests/gimp/gui-driver.sh" "$W/$name" "$typed" "$click" alt+o \
    "${GIMP[@]}" -b "$expr" \
    </dev/null >"$ROOT$W/gimp.log" 2>&1 || RC=$?
  local shot shots=()
  for shot in "$W/$name" "$W/$name-typed"; do
    [ -f "$ROOT$shot.xwd" ] || continue
    in_env python3 "$SRC/tests/gimp/xwd2png.py" "$shot.xwd" "$shot.png" >/dev/null &&
      rm -f "$ROOT$shot.xwd" && shots+=("$OUT/$name/${shot##*/}.png")
  done
  if [ "$RC" = 0 ] && grep -q '^LF-OK dialog' "$ROOT$W/gimp.log"; then
    result "$name" ok "screenshots: ${shots[*]}"
  else
    result "$name" FAILED "$(why)${shots:+; screenshots: ${shots[*]}}"
  fi
}
test_dialog_en () { gui_test "$1" C.UTF-8 "typed in the dialog"; }
test_dialog_de () {
  local de
  de=$(german_locale)
  if [ -z "$de" ]; then
    result "$1" SKIPPED "no de_DE.UTF-8 locale (package locales)"
  else
    gui_test "$1" "$de" "im Dialog getippt"
  fi
}

# readme: the README's Script-Fu blocks run as written (generate, img2img,
# create and a PNG export; a ControlNet and an IP-Adapter call), only the
# model paths pointed at the fixture and the PNG into the work dir; their
# `img` and `layer` are a 512×512 image.
test_readme () {
  # 512² examples without LinFusion on the tiny model (2-dimensional heads:
  # softmax attention is exp-bound) take about two minutes
  local code TIMEOUT=$((TIMEOUT > 900 ? TIMEOUT : 900))
  new_work "$1"
  code=$(awk '/^### / {f = /^### Script-Fu/} f && /^```scheme/ {c = 1; next}
              c && /^```/ {c = 0; next} c' "$ROOT$SRC/README.md" |
    sed -e 's/;.*$//' -e "s#/models/stable-diffusion-v1-5#$MODEL#g" \
        -e "s#/models/LinFusion-1-5#$MODEL/linfusion#g" \
        -e "s#/models/control_v11p_sd15_canny#$MODEL/controlnet#g" \
        -e "s#/models/IP-Adapter/models#$MODEL/ip_adapter/models#g" \
        -e "s#/tmp/lighthouse.png#$W/readme.png#g")
  if [ -z "$code" ]; then
    result "$1" FAILED "no Script-Fu block under '### Script-Fu' in README.md"
    return
  fi
  batch "(begin (let* ((img (car (gimp-image-new 512 512 RGB)))
    (layer (car (gimp-layer-new img \"background\" 512 512 RGB-IMAGE 100
                                LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer img layer 0 0)
    $code
    (display \"LF-OK readme layers \")
    (display (vector-length (car (gimp-image-get-layers img)))) (newline)))"
  if [ "$RC" = 0 ] && grep -q '^LF-OK readme layers 5' "$ROOT$W/gimp.log" \
     && [ -s "$ROOT$W/readme.png" ]; then
    result "$1" ok "5 examples; 4 new layers and a saved PNG"
  else
    result "$1" FAILED "$(why)"
    keep "$1"
  fi
}
