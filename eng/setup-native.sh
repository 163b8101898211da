#!/usr/bin/env bash
# Makes TorchSharp's native glue loadable on this machine. Idempotent and silent when nothing is needed.
#
# TorchSharp 0.107 (libtorch 2.10) ships libLibTorchSharp.so built against GLIBCXX_3.4.32 (GCC 13).
# Debian 12 ships libstdc++ with GLIBCXX_3.4.30, so the library fails to load there. On Debian 12 this
# script adds Debian 13 (trixie) as an apt source pinned at priority 100 (nothing else is upgraded from
# it unless asked) and installs libstdc++6 from it; that also moves libc6 to trixie's 2.41.
# On any other system it only checks for GLIBCXX_3.4.32 and explains what to do.
set -euo pipefail

needed=GLIBCXX_3.4.32

find_libstdcxx() {
  local candidates=(/usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6)
  local path
  path=$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 / {print $NF; exit}')
  [ -n "$path" ] && { echo "$path"; return; }
  for path in "${candidates[@]}"; do [ -e "$path" ] && { echo "$path"; return; }; done
}

has_symbol() {
  local lib
  lib=$(find_libstdcxx)
  [ -n "$lib" ] && grep -qa "$needed" "$lib"
}

[ "$(uname -s)" = Linux ] || exit 0   # macOS and Windows use TorchSharp's own native packages as they are
has_symbol && exit 0

. /etc/os-release 2>/dev/null || true
if [ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup-native: $needed missing from libstdc++; installing libstdc++6 from Debian 13 (trixie), pinned at priority 100" >&2
  if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
    $sudo tee /etc/apt/sources.list.d/trixie.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  if [ ! -f /etc/apt/preferences.d/trixie-pin ]; then
    $sudo tee /etc/apt/preferences.d/trixie-pin >/dev/null <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  fi
  log=$(mktemp)
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -t trixie libstdc++6; } >"$log" 2>&1; then
    tail -20 "$log" >&2
    echo "setup-native: apt-get failed (log above)" >&2
    exit 1
  fi
  rm -f "$log"
  has_symbol && { echo "setup-native: done ($needed present)" >&2; exit 0; }
  echo "setup-native: libstdc++6 from trixie was installed but $needed is still missing" >&2
  exit 1
fi

cat >&2 <<MSG
setup-native: TorchSharp 0.107 needs $needed in libstdc++.so.6, and this system's does not have it.
Install a libstdc++ from GCC 13 or newer (for example your distribution's newer libstdc++6 package),
or point LIBTORCH_DIR at a libtorch folder whose glue was built for your system.
MSG
exit 1
