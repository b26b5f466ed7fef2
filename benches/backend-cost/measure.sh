#!/usr/bin/env bash
# Cold release builds of the function in src/main.rs: without wacht's `backend` feature, with
# it (the function does not call it), and with the function calling `users().list`. Each build
# starts from an empty target directory; the registry is already downloaded. Prints the wall
# time of each build and the size of its binary (debug info stripped, as deployed).
set -euo pipefail
cd "$(dirname "$0")"
cargo fetch --quiet
for features in "" "backend" "call"; do
    target="$(mktemp -d)"
    start=$(date +%s.%N)
    CARGO_TARGET_DIR="$target" cargo build --quiet --release --features "$features"
    end=$(date +%s.%N)
    size=$(stat -c %s "$target/release/wacht-backend-cost")
    printf '%-10s build %6.1f s   binary %6.2f MiB\n' "${features:-none}" \
        "$(echo "$end - $start" | bc)" "$(echo "scale=2; $size / 1048576" | bc)"
    rm -rf "$target"
done
