#!/bin/sh
# Check a built bundle: run its self-test headless, away from the source tree and the
# user's own folders.
#
#   installer/check_bundle.sh [BUNDLE] [--expect-weights]
#
# BUNDLE defaults to dist/Impasto. --expect-weights also requires that the self-test used
# the model bundled with --with-weights (not generated weights). Exit status 0 on success.
set -eu

bundle=dist/Impasto
expect_weights=no
for arg in "$@"; do
    case "$arg" in
        --expect-weights) expect_weights=yes ;;
        -*) echo "usage: $0 [BUNDLE] [--expect-weights]" >&2; exit 2 ;;
        *) bundle=$arg ;;
    esac
done
program=$(cd "$bundle" && pwd)/Impasto
if [ ! -x "$program" ]; then
    echo "check_bundle: $program is missing; build it with installer/build.py" >&2
    exit 1
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"  # not the checkout: the bundle must not need the source files
status=0
env -u PYTHONPATH -u PYTHONHOME -u IMPASTO_BUNDLED_MODELS_DIR \
    IMPASTO_MODELS_DIR="$scratch/models" IMPASTO_CONFIG_DIR="$scratch/config" \
    QT_QPA_PLATFORM=offscreen "$program" --selftest >"$scratch/out" 2>"$scratch/err" || status=$?
cat "$scratch/out"
if [ "$status" -ne 0 ] || ! grep -q "^SELFTEST OK" "$scratch/out"; then
    echo "check_bundle: the self-test failed (exit status $status); its errors:" >&2
    tail -n 30 "$scratch/err" >&2
    exit 1
fi
if [ "$expect_weights" = yes ] && ! grep -q "^weights: .* bundled" "$scratch/out"; then
    echo "check_bundle: the self-test did not use a bundled model" >&2
    exit 1
fi
echo "check_bundle: $bundle passed"
