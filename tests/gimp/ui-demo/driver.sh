#!/bin/sh
# driver.sh -- runs INSIDE the GIMP 3 root under xvfb-run (see run.sh).
# usage: driver.sh WORKDIR LANG   (WORKDIR is a root path ending in /)
# Opens the demo's generate dialog, screenshots it, types a prompt, presses
# OK, screenshots the run window mid-run, then runs img2img and cancels its
# run window with the window's own Cancel button; then generate again,
# which shows the last values, and clears LinFusion.
W=$1
CLEAR_X=${CLEAR_X:-607}; CLEAR_Y=${CLEAR_Y:-103}   # LinFusion's clear button
gimp-3.0 -n --no-splash -c --quit --batch-interpreter=plug-in-script-fu-eval \
  -b "(begin (load \"${W}demo.scm\") (ui-demo \"${W}\"))" > "${W}gimp.log" 2>&1 &
GPID=$!
shot () { xwd -root -silent > "${W}$1.xwd"; }
WID=$(timeout 90 xdotool search --sync --onlyvisible --name '^LinFusion' | head -1)
if [ -z "$WID" ]; then echo "driver: no dialog"; kill $GPID; wait $GPID; exit 1; fi
sleep 2
shot dialog
xdotool windowfocus --sync "$WID"
xdotool key --clearmodifiers alt+p       # the prompt's mnemonic
xdotool type --delay 10 'a lighthouse on a cliff at dusk, oil painting'
xdotool key --clearmodifiers alt+n
xdotool type --delay 10 'blurry'
sleep 1
shot typed
xdotool key --clearmodifiers alt+o
RID=$(timeout 30 xdotool search --sync --onlyvisible --name '^Generating$' | head -1)
sleep 2
shot running
# second procedure: img2img, cancelled from the run window
WID=$(timeout 90 xdotool search --sync --onlyvisible --name '^LinFusion Image' | head -1)
sleep 2
shot dialog-img2img
xdotool windowfocus --sync "$WID"
xdotool key --clearmodifiers alt+o
RID=$(timeout 30 xdotool search --sync --onlyvisible --name '^Generating$' | head -1)
sleep 1
xdotool windowfocus --sync "$RID"
xdotool key --clearmodifiers alt+c       # the run window's _Cancel
sleep 0.3
shot cancelling
# third run: generate again shows the last values (prompt, model,
# LinFusion); clear LinFusion with its button, then OK and cancel the run
WID=$(timeout 90 xdotool search --sync --onlyvisible --name '^LinFusion Generate' | head -1)
sleep 2
shot dialog-again
xdotool windowfocus --sync "$WID"
xdotool mousemove --window "$WID" "$CLEAR_X" "$CLEAR_Y" click 1
sleep 0.5
shot cleared
xdotool key --clearmodifiers alt+o
RID=$(timeout 30 xdotool search --sync --onlyvisible --name '^Generating$' | head -1)
xdotool windowfocus --sync "$RID"
xdotool key --clearmodifiers alt+c
wait $GPID
RC=$?
echo "driver: gimp exited with $RC"
exit $RC
