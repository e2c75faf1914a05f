#!/usr/bin/env bash
# ledger fleet against a shell loop of single runs, on the same clients:
#   verify:  ledger fleet verify DIR            vs  for f in DIR/*; do ledger verify "$f"; done
#   backup:  ledger fleet backup DIR --to B     vs  for f in DIR/*; do ledger backup "$f" --to B/NAME; done
#   Scripts/bench-fleet.sh [CLIENTS]     (default 200)
# The clients are sample companies of 2,000 to 50,000 transactions: ten sizes made
# once, each copied to as many clients as needed. Prints times, ratios (target: the
# fleet at most 0.60x the loop), the CPU time of each and the cores it kept busy,
# the least ratio the fleet's CPU time allows on this machine's cores, and the
# fleet's peak memory (target: at most 250 MiB).
source "$(dirname "$0")/bench-common.sh"
clients="${1:-200}"
sizes=(2000 7000 12000 17000 22000 28000 33000 38000 44000 50000)
mkdir -p "$work/made" "$work/clients"
echo "Making ${#sizes[@]} sample companies of ${sizes[0]} to ${sizes[-1]} transactions..."
for index in "${!sizes[@]}"; do
    "$ledger" sample "$work/made/$index.db" --transactions "${sizes[$index]}" --seed "$(( index + 1 ))" >/dev/null
done
echo "Copying them to $clients clients..."
for (( client = 0; client < clients; client++ )); do
    cp "$work/made/$(( client % ${#sizes[@]} )).db" "$work/clients/client$client.db"
done
echo "Clients: $clients, $(( $(du -sk "$work/clients" | cut -f1) / 1024 )) MiB in all"
cat "$work"/clients/*.db > /dev/null

loop_verify=$(timed "for f in '$work'/clients/*.db; do '$ledger' verify \"\$f\" >/dev/null; done"); loop_verify_cpu=$(cpu)
fleet_verify=$(timed "'$ledger' fleet verify '$work/clients'"); verify_peak=$(peak); fleet_verify_cpu=$(cpu)
loop_backup=$(timed "for f in '$work'/clients/*.db; do n=\$(basename \"\$f\" .db); '$ledger' backup \"\$f\" --to '$work/loop'/\$n >/dev/null; done"); loop_backup_cpu=$(cpu)
fleet_backup=$(timed "'$ledger' fleet backup '$work/clients' --to '$work/fleet'"); backup_peak=$(peak); fleet_backup_cpu=$(cpu)
stored=$(find "$work/fleet" -name '*.gz' | wc -l)
cores=$(nproc)

# line LABEL WALL CPU: a run's wall time, CPU time and the cores it kept busy on average.
line() { printf '%-26s %8s s wall %8s CPU-s  %s cores busy' "$1" "$2" "$3" "$(ratio "$3" "$2")"; }
# floor LOOP_WALL FLEET_CPU: the least fleet/loop ratio the fleet's CPU
# time allows on this machine's cores, every core busy all the time.
floor() { awk -v w="$1" -v f="$2" -v n="$cores" 'BEGIN { printf "%.2f", f / n / w }'; }

echo "$(line "loop of ledger verify" "$loop_verify" "$loop_verify_cpu")"
echo "$(line "ledger fleet verify" "$fleet_verify" "$fleet_verify_cpu")  peak $verify_peak MiB"
echo "  fleet verify vs loop: $(ratio "$fleet_verify" "$loop_verify")x (target <= 0.60); the least the fleet's CPU time allows on $cores cores: $(floor "$loop_verify" "$fleet_verify_cpu")x"
echo "$(line "loop of ledger backup" "$loop_backup" "$loop_backup_cpu")"
echo "$(line "ledger fleet backup" "$fleet_backup" "$fleet_backup_cpu")  peak $backup_peak MiB"
echo "  fleet backup vs loop: $(ratio "$fleet_backup" "$loop_backup")x (target <= 0.60); the least the fleet's CPU time allows on $cores cores: $(floor "$loop_backup" "$fleet_backup_cpu")x; $stored snapshots written"
echo "  peak memory: $(( verify_peak > backup_peak ? verify_peak : backup_peak )) MiB (target <= 250)"
