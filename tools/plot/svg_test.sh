#!/usr/bin/env bash
# Renders //tools/plot:chart_demo (linear and log y, two sizes) and checks each SVG and PNG with
# check_chart.py under Debian's /usr/bin/python3.
set -euo pipefail
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
demo="$PWD/tools/plot/chart_demo"
check="$PWD/tools/plot/check_chart.py"
common=(--text "Llama-like 1B: decoder sparsity vs perplexity" --text "decoder sparsity"
        --text "WikiText-2 perplexity" --text "magnitude" --text "wanda" --text "gisp (ours)"
        --series "magnitude:17:1" --series "wanda:17:1" --series "gisp (ours):0:2" --demo)
"$demo" "$tmp/linear.png" linear
/usr/bin/python3 "$check" "$tmp/linear.svg" "$tmp/linear.png" --size 800x500 "${common[@]}" \
  --text "0.0" --text "0.4" --text "0.8"
"$demo" "$tmp/log.png" log 1600x1000
/usr/bin/python3 "$check" "$tmp/log.svg" "$tmp/log.png" --size 1600x1000 "${common[@]}" \
  --text "10" --text "20"
