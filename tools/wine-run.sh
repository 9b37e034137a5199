#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs a Windows program under Wine: the crosscompiling emulator of the `windows` preset
# (cmake/toolchains/x86_64-w64-mingw32.cmake), so every ctest test of that build goes through here.
#   tools/wine-run.sh PROGRAM.exe [ARG…]   → the program's exit status
# The Wine prefix ($CORDON_WINEPREFIX, default ~/.cache/cordon/wine-prefix) is created on first use,
# without dialogs, once even when tests start in parallel; Wine's own messages are off (WINEDEBUG=-all).
set -eu
wine=""
for w in wine64 /usr/lib/wine/wine64 wine; do
    if command -v "$w" >/dev/null 2>&1; then
        wine=$(command -v "$w")
        break
    fi
done
if [ -z "$wine" ]; then
    echo "tools/wine-run.sh: no wine64 or wine (Debian: apt-get install wine64)" >&2
    exit 127
fi
export WINEPREFIX="${CORDON_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/cordon/wine-prefix}"
export WINEDEBUG=-all
# No Mono or Gecko install prompts: cordon's programs are plain console programs.
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEARCH=win64
if [ ! -f "$WINEPREFIX/.cordon-ready" ]; then
    mkdir -p "$WINEPREFIX"
    (
        flock 9
        if [ ! -f "$WINEPREFIX/.cordon-ready" ]; then
            "$wine" wineboot --init >/dev/null 2>&1 || true
            "$(command -v wineserver || echo /usr/lib/wine/wineserver)" -w 2>/dev/null || true
            touch "$WINEPREFIX/.cordon-ready"
        fi
    ) 9>"$WINEPREFIX.lock"
fi
# One Wine server for the whole test run (each program would otherwise start its own, ~3 s): it stays
# 30 s after the last program ends. A second start while one runs is refused by the server itself.
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver)
"$wineserver" -p30 >/dev/null 2>&1 || true
# A start that Wine gives up on (seen about once in 3000 test runs: no output at all, 0.01 s) is tried
# once more; a program that really fails fails again, and a skip (77) is passed on as it is.
status=0
"$wine" "$@" || status=$?
if [ "$status" -eq 0 ] || [ "$status" -eq 77 ]; then
    exit "$status"
fi
exec "$wine" "$@"
