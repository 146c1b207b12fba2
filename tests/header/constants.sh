#!/usr/bin/env bash
# Every object-like PROCMON_ macro in the header must be a plain integer or
# string literal: bindgen, ctypes and cffi skip casts and expressions, and a
# binding would then have to copy the value by hand.
# Usage: constants.sh CC procmon.h
set -euo pipefail
cc=$1 header=$2
bad=0 count=0
while read -r _ name value; do
    case "$name" in
        PROCMON_H|PROCMON_API|*\(*) continue ;;           # guard, export macro, function-like macros
        PROCMON_*_INIT) continue ;;                       # struct initialisers
    esac
    count=$((count + 1))
    if ! [[ "$value" =~ ^(-?(0x[0-9A-Fa-f]+|[0-9]+)|\"[^\"]*\")$ ]]; then
        echo "FAIL: $name is '$value', not a plain literal"
        bad=$((bad + 1))
    fi
done < <("$cc" -E -dM -x c "$header" | grep -E '^#define PROCMON_')
echo "header_constants: $((count - bad)) passed, $bad failed"
[ "$bad" -eq 0 ] && [ "$count" -gt 40 ]
