#!/usr/bin/env bash
# gui-driver.sh -- runs under xvfb-run (inside the root when there is one).
# usage: gui-driver.sh SHOT-PREFIX PROMPT CLICK OK-KEY GIMP-ARGS...
# Starts GIMP with the dialog test, waits for the plug-in's dialog (a window
# whose title contains "LinFusion"), screenshots it, types PROMPT into the
# prompt field (clicked at CLICK="x,y" in the window first; "-": the dialog
# focuses its prompt itself), screenshots again, presses OK-KEY and returns
# GIMP's exit status.  There is no window manager: the
# dialog gets the X focus explicitly, or the keys would go elsewhere.
set -euo pipefail
prefix=$1 prompt=$2 click=$3 ok_key=$4
shift 4
"$@" &
gimp=$!
win=$(timeout 120 xdotool search --sync --onlyvisible --name 'LinFusion' | head -n 1) || true
if [ -z "$win" ]; then
  echo "gui-driver: the dialog never appeared"
  kill "$gimp" 2>/dev/null || true
  wait "$gimp" || true
  exit 1
fi
echo "gui-driver: dialog window $win: $(xdotool getwindowname "$win")"
sleep 1                                     # let GTK draw the dialog
xdotool windowfocus --sync "$win"
xwd -root -silent > "$prefix.xwd"
if [ "$click" != - ]; then
  xdotool mousemove --window "$win" "${click%,*}" "${click#*,}" click 1
fi
xdotool key --clearmodifiers ctrl+a
xdotool type --delay 30 "$prompt"
sleep 0.5
xwd -root -silent > "$prefix-typed.xwd"
xdotool key --clearmodifiers "$ok_key"
rc=0
wait "$gimp" || rc=$?
echo "gui-driver: gimp exited with $rc"
exit "$rc"
