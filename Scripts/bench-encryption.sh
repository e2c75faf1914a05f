#!/usr/bin/env bash
# The cost of encrypting snapshots: ledger backup with and without
# --encrypt-to, on the same file, alternating A B A B, verify on and then off.
#   Scripts/bench-encryption.sh [TRANSACTIONS] [PAIRS]     (default 1000000, 2)
# Prints each run, the median of each, their ratio (target <= 1.05) and peak memory.
source "$(dirname "$0")/bench-common.sh"
pairs="${2:-2}"
db="$work/bench.db"
make_sample "$db"
recipient=$("$ledger" key new --out "$work/key.txt" 2>/dev/null)

for mode in "" "--no-verify"; do
    plain=(); sealed=(); plain_peak=0; sealed_peak=0
    for pair in $(seq 1 "$pairs"); do
        plain+=("$(timed "'$ledger' backup '$db' --to '$work/plain-$pair' $mode")"); plain_peak=$(peak)
        sealed+=("$(timed "'$ledger' backup '$db' --to '$work/sealed-$pair' $mode --encrypt-to $recipient")"); sealed_peak=$(peak)
        rm -rf "$work/plain-$pair" "$work/sealed-$pair"
    done
    label="backup${mode:+ $mode}"
    printf '%-36s runs: %s  median %s s  peak %s MiB\n' "$label" "${plain[*]}" "$(median "${plain[@]}")" "$plain_peak"
    printf '%-36s runs: %s  median %s s  peak %s MiB\n' "$label --encrypt-to" "${sealed[*]}" "$(median "${sealed[@]}")" "$sealed_peak"
    echo "  encrypted / plain: $(ratio "$(median "${sealed[@]}")" "$(median "${plain[@]}")") (target <= 1.05)"
done
