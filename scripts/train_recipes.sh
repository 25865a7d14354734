#!/usr/bin/env bash
# Trains the reference models' seed recipes to their target accuracies, with
# the release build, and prints one line per recipe: PASS or FAIL, the figure
# reached, the target and the time taken. Exits 1 if any recipe misses.
#
# Needs ../shared/data (MNIST and scikit-learn's tables) next to the project.
# Takes about 10-20 minutes on 2 cores (MNIST CNN A's five epochs dominate);
# `--quick` runs only the recipes that take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
[[ "${1:-}" == "--quick" ]] && quick=true
swift build -c release --product dlmc >/dev/null
dlmc=.build/release/dlmc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# recipe NAME FILE FIGURE COMPARISON TARGET [train flags...]
recipe() {
    local name=$1 file=$2 figure=$3 comparison=$4 target=$5
    shift 5
    local start=$SECONDS
    "$dlmc" train "$file" --output "$work/$name.safetensors" --quiet "$@"
    local line value
    line=$("$dlmc" evaluate "$file" --weights "$work/$name.safetensors")
    value=$(sed -n "s/.* $figure: \([0-9.e+-]*\).*/\1/p" <<<" $line")
    if awk -v v="$value" -v t="$target" -v c="$comparison" 'BEGIN { exit !((c == "<" && v < t) || (c == ">=" && v >= t)) }'; then
        printf 'PASS  %-22s %s %s (target %s %s)  %ss\n' "$name" "$figure" "$value" "$comparison" "$target" $((SECONDS - start))
    else
        printf 'FAIL  %-22s %s %s (target %s %s)  %ss\n' "$name" "$figure" "$value" "$comparison" "$target" $((SECONDS - start))
        failed=1
    fi
}

recipe linear-regression examples/linear_regression.dlm loss "<" 0.001
recipe xor examples/xor.dlm accuracy ">=" 1
recipe breast-cancer examples/breast_cancer.dlm accuracy ">=" 0.95
recipe mlp-5-epochs examples/mlp.dlm accuracy ">=" 0.975
if ! $quick; then
    recipe mnist-cnn-a-1-epoch examples/mnist_cnn_a.dlm accuracy ">=" 0.988 --epochs 1
    recipe mnist-cnn-a-5-epochs examples/mnist_cnn_a.dlm accuracy ">=" 0.990
fi
exit $failed
