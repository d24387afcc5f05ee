# shellcheck shell=bash
# root.sh -- sourced by tests/gimp/run: where GIMP 3 comes from.
#
# Host mode: the host has gimp-console-3.0 and gimp-3.0.pc; commands run
# directly and ROOT is empty.  Root mode (Debian 12 has no GIMP 3): a Debian 13
# (trixie) root made once with debootstrap at $ROOT and reused; commands run
# in it with chroot.  Paths named "inside" paths are the same string in both
# modes; the host sees them at "$ROOT$path".

SUITE=trixie
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# GIMP and the toolchain, our build dependencies, python3 for the checkers,
# what the dialog test needs (X server, screenshots, typing) and locales for
# the German dialog.
ROOT_PKGS=(gimp libgimp-3.0-dev meson ninja-build gcc pkg-config gettext
           libglib2.0-dev libjson-glib-dev libopenblas-dev libpng-dev libomp-dev
           python3 xvfb xauth x11-apps xdotool locales)

MOUNTS=()                                   # what we mounted, unmounted on exit

log () { printf '[gimp-tests %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die () { log "ERROR: $*"; exit 1; }

host_has_gimp3 () {
  command -v gimp-console-3.0 >/dev/null && pkg-config --exists gimp-3.0 gimpui-3.0 2>/dev/null
}

# set_env: ENVP becomes the command that runs its arguments with a clean
# environment (plus VAR=value words given first), in the root or on the host;
# an array rather than a function, so that timeout can run it.
set_env () {
  if [ -n "$ROOT" ]; then
    ENVP=(chroot "$ROOT" /usr/bin/env -i
          PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          LANG=C.UTF-8 HOME=/root)
  else
    ENVP=(env -i PATH="$PATH" LANG=C.UTF-8 HOME="${HOME:-/root}")
  fi
}
in_env () { "${ENVP[@]}" "$@"; }

root_is_valid () {
  [ -x "$ROOT/usr/bin/apt-get" ] && [ ! -d "$ROOT/debootstrap" ] &&
    grep -qs "^VERSION_CODENAME=$SUITE\$" "$ROOT/etc/os-release"
}

# Unmounts everything below $1 (deepest first): never rm -rf across a mount.
umount_below () {
  awk -v r="$1/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount "$m"; done
}

ensure_root () {
  if root_is_valid; then
    log "reusing the $SUITE root at $ROOT"
    return
  fi
  if ! command -v debootstrap >/dev/null || [ ! -e /usr/share/debootstrap/scripts/$SUITE ]; then
    log "installing debootstrap on the host"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
  fi
  if [ -e "$ROOT" ]; then                   # an interrupted debootstrap
    log "removing the incomplete root at $ROOT"
    umount_below "$ROOT"
    rm -rf --one-file-system "$ROOT"
  fi
  mkdir -p "$(dirname "$ROOT")"
  log "debootstrap $SUITE into $ROOT"
  debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1 ||
    { tail -n 30 "$ROOT.debootstrap.log"; die "debootstrap failed"; }
  root_is_valid || die "debootstrap did not make a usable root"
}

missing_pkgs () {
  local p st
  for p in "$@"; do
    # shellcheck disable=SC2016
    st=$(in_env dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ $st == ii* ]] || echo "$p"
  done
}

# Installs what is missing from ROOT_PKGS.  LF_GIMP3_NO_APT=1 only reports
# it (for a root that others share); the tests that need it then skip.
ensure_pkgs () {
  local missing
  missing=$(missing_pkgs "${ROOT_PKGS[@]}" | tr '\n' ' ')
  [ -n "${missing// /}" ] || return 0
  if [ "${LF_GIMP3_NO_APT:-0}" = 1 ]; then
    log "not installing (LF_GIMP3_NO_APT=1), missing in the root: $missing"
    return 0
  fi
  log "installing into the root: $missing"
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
  # no daemon may start inside the root
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 755 "$ROOT/usr/sbin/policy-rc.d"
  in_env apt-get update -qq
  # shellcheck disable=SC2086
  in_env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $missing >"$ROOT.apt.log" 2>&1 || { tail -n 30 "$ROOT.apt.log"; die "apt-get install failed"; }
  in_env apt-get clean                      # the .debs: ~300 MB we never need again
}

# mount_ro HOST-DIR INSIDE-PATH: HOST-DIR read-only at INSIDE-PATH in the root.
mount_ro () {
  mkdir -p "$ROOT$2"
  mountpoint -q "$ROOT$2" && umount "$ROOT$2"
  mount --bind "$1" "$ROOT$2"
  MOUNTS+=("$ROOT$2")
  mount -o remount,bind,ro "$ROOT$2"
}

mount_proc () {
  if ! mountpoint -q "$ROOT/proc" && mount -t proc proc "$ROOT/proc" 2>/dev/null; then
    MOUNTS+=("$ROOT/proc")
  fi
}

unmount_all () {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null || true
  done
  MOUNTS=()
}

# Copies the source tree to the inside path $1 (tar keeps the mtimes, so
# ninja rebuilds only what changed); a copy, so that nothing done in the root
# can reach the host's tree.
copy_source () {
  rm -rf --one-file-system "${ROOT:?}$1"
  mkdir -p "$ROOT$1"
  tar -C "$SRC_HOST" --exclude=./.git --exclude='./build*' --exclude='./_build*' \
    --exclude=./.ci-work -cf - . | tar -C "$ROOT$1" -xf -
}

# Prints the name of a de_DE UTF-8 locale, generating it when the locale
# data is there but the locale is not; prints nothing when impossible.
german_locale () {
  local have
  have=$(in_env locale -a 2>/dev/null | grep -i -m1 -E '^de_DE\.utf-?8$' || true)
  if [ -z "$have" ] && [ -n "$ROOT" ] && [ -f "$ROOT/usr/share/i18n/locales/de_DE" ]; then
    in_env localedef -i de_DE -f UTF-8 de_DE.UTF-8 >/dev/null 2>&1 || true
    have=$(in_env locale -a 2>/dev/null | grep -i -m1 -E '^de_DE\.utf-?8$' || true)
  fi
  [ -n "$have" ] && echo de_DE.UTF-8
  return 0
}
