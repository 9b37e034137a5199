#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Adds the SPDX licence identifier to every tracked source, header, script and build file that lacks one
# (C comment for C/C++ and OpenCL sources, '#' comment after any shebang for scripts and CMake files).
# Usage: tools/add-spdx.sh [--check]   (--check: list files without one and exit 1 if any)
set -eu
cd "$(dirname "$0")/.."
tag="SPDX-License-Identifier: Apache-2.0"
missing=0
for f in $(git ls-files '*.c' '*.h' '*.inc' '*.cpp' '*.cl' '*.sh' '*.py' '*.cmake' '*CMakeLists.txt' '*.pml' '*.def' '.ci/run'); do
    [ -f "$f" ] || continue
    # Files with uncommitted changes are left alone when asked (others may be editing them).
    if [ -n "${SPDX_SKIP_MODIFIED:-}" ] && ! git diff --quiet -- "$f"; then
        continue
    fi
    if head -n 3 "$f" | grep -q "SPDX-License-Identifier"; then
        continue
    fi
    missing=$((missing + 1))
    if [ "${1:-}" = "--check" ]; then
        echo "no SPDX identifier: $f"
        continue
    fi
    case $f in
        *.c | *.h | *.inc | *.cpp | *.cl | *.def) { printf '/* %s */\n' "$tag"; cat "$f"; } > "$f.spdx" ;;
        *.pml) { printf '/* %s */\n' "$tag"; cat "$f"; } > "$f.spdx" ;;
        *)
            if head -n 1 "$f" | grep -q '^#!'; then
                { head -n 1 "$f"; printf '# %s\n' "$tag"; tail -n +2 "$f"; } > "$f.spdx"
            else
                { printf '# %s\n' "$tag"; cat "$f"; } > "$f.spdx"
            fi ;;
    esac
    chmod --reference="$f" "$f.spdx" 2> /dev/null || true
    mv "$f.spdx" "$f"
done
if [ "${1:-}" = "--check" ]; then
    [ "$missing" -eq 0 ] && echo "every file carries an SPDX identifier"
    [ "$missing" -eq 0 ]
fi
