#!/usr/bin/env bash
# For every ONNX model under the given folders: `infc build M --emit=ir | infc-opt -` must print
# the same text back (the textual IR is a contract: print(parse(x)) == x). Models infc cannot
# import (unsupported op or type) are counted as skipped, with the reason in --verbose mode.
#
#   roundtrip_models.sh BIN_DIR DIR...
set -uo pipefail
bin="$1"; shift
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0; skipped=0
while IFS= read -r -d '' model; do
  name="${model%/model.onnx}"
  if ! "$bin/infc" build "$model" --emit=ir -o "$tmp/a.ir" 2>"$tmp/err"; then
    if grep -q -E "unsupported|not supported" "$tmp/err"; then
      skipped=$((skipped + 1)); [[ "${VERBOSE:-0}" == 1 ]] && echo "SKIP $name: $(head -c 200 "$tmp/err")"
    else
      failed=$((failed + 1)); echo "FAIL $name: import: $(head -c 300 "$tmp/err")"
    fi
    continue
  fi
  if ! "$bin/infc-opt" - < "$tmp/a.ir" > "$tmp/b.ir" 2>"$tmp/err"; then
    failed=$((failed + 1)); echo "FAIL $name: infc-opt: $(head -c 300 "$tmp/err")"; continue
  fi
  if ! cmp -s "$tmp/a.ir" "$tmp/b.ir"; then
    failed=$((failed + 1)); echo "FAIL $name: printed IR differs after a parse/print round trip"
    diff "$tmp/a.ir" "$tmp/b.ir" | head -5
    continue
  fi
  passed=$((passed + 1))
done < <(find "$@" -name model.onnx -print0 | sort -z)
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 && $passed -gt 0 ]]
