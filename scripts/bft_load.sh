#!/usr/bin/env bash
# The BFT load line of the README: a 4-validator testnet from `l1 init-testnet`
# on 127.0.0.1 (base port 41000), `ghostplane-bench l1-load` against validator 0,
# then each validator's p2p bytes (consensus_status) before and after.
#
#   cargo build --release -p ghostplane -p ghostplane-bench
#   scripts/bft_load.sh 1000 60            # offered tx/s, seconds
#
# GHOSTPLANE (default ./target/release/ghostplane), GHOSTPLANE_BENCH (default
# ./target/release/ghostplane-bench) and DIR (default a temp dir) override the
# binaries and where the testnet lives. The validators are stopped at the end.
set -euo pipefail
tps=${1:-1000}
secs=${2:-20}
bin=${GHOSTPLANE:-./target/release/ghostplane}
bench=${GHOSTPLANE_BENCH:-./target/release/ghostplane-bench}
dir=${DIR:-$(mktemp -d)}
base=41000
"$bin" l1 init-testnet --validators 4 --out "$dir/net" --base-port $base \
  --chunk-ops 2 --keys-dir "$dir/keys" > "$dir/init.log"
pids=()
i=0
while read -r line; do
  # shellcheck disable=SC2086
  RUST_LOG=warn "$bin" ${line#ghostplane } > "$dir/node$i.out" 2> "$dir/node$i.log" &
  pids+=($!)
  i=$((i + 1))
done < "$dir/net/commands.txt"
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
sleep 5
status() {
  for i in 0 1 2 3; do
    curl -s -X POST -H 'content-type: application/json' \
      -d '{"jsonrpc":"2.0","id":1,"method":"consensus_status","params":[]}' \
      "http://127.0.0.1:$((base + 10 * i))" |
      python3 -c "import sys,json; r=json.load(sys.stdin)['result']; print('validator $i', 'height', r['height'], 'sent', r['bytesSent'], 'received', r['bytesReceived'], 'dropped', r['dropped'])"
  done
}
status
"$bench" l1-load --l1 127.0.0.1:$base --tps "$tps" --duration-s "$secs"
status
echo "logs in $dir"
