#!/usr/bin/env bash
# libgisp.so must export exactly the gisp_* functions of the golden list: nothing internal
# (absl, protobuf, oneDNN, C++ symbols) leaks, and nothing is removed (append-only ABI).
set -euo pipefail
lib="$1"
golden="$2"
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u)
bad=$(echo "$actual" | grep -v '^gisp_' || true)
if [ -n "$bad" ]; then
  echo "non-gisp symbols exported by $lib:"
  echo "$bad"
  exit 1
fi
if ! diff -u "$golden" <(echo "$actual"); then
  echo "exported symbols differ from $golden (update it deliberately; removals break the ABI)"
  exit 1
fi
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
if [ "$soname" != "libgisp.so.1" ]; then
  echo "SONAME is '$soname', expected libgisp.so.1"
  exit 1
fi
echo "$(echo "$actual" | wc -l) gisp_* symbols, SONAME $soname: OK"
