#!/bin/sh
# run.sh -- build ui/ and the demo inside the GIMP 3 root, install the demo
# in a plug-in folder of its own, make a header-only (sparse) copy of an
# SD-1.5 folder for the estimate, and play driver.sh under Xvfb.
# usage: run.sh SD15_DIR [LANG]      (as root; GIMP3_ROOT default /var/tmp/gimp3-root)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
ROOT=${GIMP3_ROOT:-/var/tmp/gimp3-root}
SD15=$1; LANG_RUN=${2:-C.UTF-8}
mkdir -p "$ROOT/src/ui"
tar -C "$SRC" --exclude=./build --exclude=./.git -cf - . | tar -C "$ROOT/src/ui" -xpf -
cat > "$ROOT/src/ui/plugin/meson.build" <<'MB'
executable('linfusion-ui-demo', files('../tests/gimp/ui-demo/ui-demo.c'),
  c_args: ['-DGETTEXT_PACKAGE="gimp-linfusion"'],
  include_directories: config_inc, dependencies: [ui_dep])
MB
chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME=/root sh -c \
  'cd /src/ui && (test -d /build/ui || meson setup /build/ui -Dplugin=enabled -Dcuda=disabled) && ninja -C /build/ui' >/dev/null
install -D -m 755 "$ROOT/build/ui/plugin/linfusion-ui-demo" \
  "$ROOT/opt/ui-demo-plugins/linfusion-ui-demo/linfusion-ui-demo"
if [ -d "$ROOT/src/ui-locale" ]; then
  cp -a "$ROOT/src/ui-locale" "$ROOT/opt/ui-demo-plugins/linfusion-ui-demo/locale"
fi
# header-only copy: same headers and sizes, no data blocks
if [ ! -d "$ROOT/opt/ui-demo-sd15" ]; then
  (cd "$SD15" && find . -type f) | while read -r f; do
    mkdir -p "$(dirname "$ROOT/opt/ui-demo-sd15/$f")"
    case $f in
      *.safetensors)
        n=$(python3 -c "import struct,sys;print(8+struct.unpack('<Q',open(sys.argv[1],'rb').read(8))[0])" "$SD15/$f")
        head -c "$n" "$SD15/$f" > "$ROOT/opt/ui-demo-sd15/$f"
        truncate -s "$(stat -c %s "$SD15/$f")" "$ROOT/opt/ui-demo-sd15/$f" ;;
      *) cp "$SD15/$f" "$ROOT/opt/ui-demo-sd15/$f" ;;
    esac
  done
fi
WORK=$(mktemp -d "$ROOT/tmp/ui-demo.XXXXXX"); chmod 755 "$WORK"
W=/tmp/$(basename "$WORK")/
mkdir -p "$WORK/home" "$WORK/profile"
cat > "$WORK/profile/gimprc" <<EOG
(plug-in-path "\${gimp_dir}/plug-ins:\${gimp_plug_in_dir}/plug-ins:/opt/ui-demo-plugins")
(check-updates no)
(show-welcome-dialog no)
(save-session-info no)
(restore-session no)
EOG
cp "$HERE/driver.sh" "$HERE/demo.scm" "$WORK/"
rc=0
timeout 300 chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin LANG="$LANG_RUN" \
  LANGUAGE= HOME="${W}home" GIMP3_DIRECTORY="${W}profile" \
  XDG_CONFIG_HOME="${W}home/.config" XDG_CACHE_HOME="${W}home/.cache" \
  XDG_DATA_HOME="${W}home/.local/share" LF_DEMO_MODEL=/opt/ui-demo-sd15 \
  xvfb-run -a -s '-screen 0 1280x900x24' sh "${W}driver.sh" "$W" > "$WORK/driver.log" 2>&1 || rc=$?
cat "$WORK/driver.log"; grep -E "ui-demo|generate:|img2img:|UI-DEMO|CRITICAL|WARNING|error" "$WORK/gimp.log" || true
for s in "$WORK"/*.xwd; do
  [ -f "$s" ] && python3 /work/shared/gimp3/probe-plugin/test/xwd2png.py "$s" "${s%.xwd}.png" && rm -f "$s"
done
echo "work dir: $WORK (rc $rc)"
exit $rc
