#!/usr/bin/env bash
# Cold builds of the function in src/main.rs: without wacht's `backend` feature, with it (the
# function does not call it), and with the function calling `users().list`. Each build starts
# from an empty target directory; the registry is already downloaded. Prints the wall time of
# each build and the size of its binary. `./measure.sh` builds in release (debug info
# stripped, as deployed); `./measure.sh dev`, the dev profile (`cargo build`).
set -euo pipefail
cd "$(dirname "$0")"
profile="${1:-release}"
dir="$profile"
[ "$profile" = dev ] && dir=debug
cargo fetch --quiet
for features in "" "backend" "call"; do
    target="$(mktemp -d)"
    start=$(date +%s.%N)
    CARGO_TARGET_DIR="$target" cargo build --quiet --profile "$profile" --features "$features"
    end=$(date +%s.%N)
    size=$(stat -c %s "$target/$dir/wacht-backend-cost")
    printf '%-8s %-10s build %6.1f s   binary %6.2f MiB\n' "$profile" "${features:-none}" \
        "$(echo "$end - $start" | bc)" "$(echo "scale=2; $size / 1048576" | bc)"
    rm -rf "$target"
done
