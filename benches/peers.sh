#!/usr/bin/env bash
# Side-by-side throughput: cleanpath analyze (1 and 2 threads) against tshark, ndpiReader
# and tcpdump on the same files in one run. One command from a clean clone:
#
#   bash benches/peers.sh
#
# Installs the peers with apt when missing (tshark, libndpi-bin, tcpdump, time; needs
# root), builds cleanpath in release, generates the 5G mix with `cleanpath gen mix`, runs
# every tool on every file and prints a Markdown table: wall time, packets/s, MB/s, peak
# RSS (/usr/bin/time -v) and each tool's time relative to cleanpath on one thread.
#
# Sizes are configurable (the defaults take some minutes on 2 cores):
#   SIZES="1000000:100000 10000000:1000000"   packets:flows of each generated file
#   SNAPLEN=0        slice generated frames (0 = whole frames; 200 keeps every header)
#   REAL="fixtures/pcapplusplus-many-protocols.pcap ..."   real captures to add
#   PEERS="tshark tshark-phs ndpi tcpdump"     which peers to run
#   THREADS="1 2"    cleanpath thread counts
#   REPEAT=1         runs per tool and file (the fastest is reported)
#   WORK=target/bench-peers   where generated files and logs go
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"1000000:100000 10000000:1000000"}
SNAPLEN=${SNAPLEN:-0}
REAL=${REAL:-"fixtures/pcapplusplus-many-protocols.pcap fixtures/telekom-5gtv-n3_example.pcap"}
PEERS=${PEERS:-"tshark tshark-phs ndpi tcpdump"}
THREADS=${THREADS:-"1 2"}
REPEAT=${REPEAT:-1}
WORK=${WORK:-target/bench-peers}
mkdir -p "$WORK"

need=()
command -v tshark >/dev/null || need+=(tshark)
command -v ndpiReader >/dev/null || need+=(libndpi-bin)
command -v tcpdump >/dev/null || need+=(tcpdump)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/cleanpath

files=()
for s in $SIZES; do
    p=${s%%:*}; f=${s##*:}
    out="$WORK/mix-${p}p-${f}f-s${SNAPLEN}.pcap"
    if [ ! -s "$out" ]; then
        echo "generating $out" >&2
        "$BIN" gen mix --packets "$p" --flows "$f" --seed 1 --snaplen "$SNAPLEN" \
            -o "$out" --truth "$out.truth.jsonl" >&2
    fi
    files+=("$out")
done
for r in $REAL; do [ -f "$r" ] && files+=("$r"); done

# Startup cost: loading the bundled tables, measured on the 18-frame demo.
"$BIN" gen demo -o "$WORK/demo.pcapng"

# Runs a command REPEAT times; prints "wall_s max_rss_kb cpu_s" of the fastest run.
measure() {
    local best="" rss="" cpu="" i log="$WORK/time.log"
    for ((i = 0; i < REPEAT; i++)); do
        /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$WORK/stderr.log" || true
        local wall
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0;
               for (k = 1; k <= n; k++) s = s * 60 + t[k]; print s}' "$log")
        local kb
        kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
        local c
        c=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$log")
        if [ -z "$best" ] || awk "BEGIN {exit !($wall < $best)}"; then best=$wall; rss=$kb; cpu=$c; fi
    done
    echo "$best $rss $cpu"
}

read -r startup startup_rss startup_cpu < <(measure "$BIN" analyze -q "$WORK/demo.pcapng")

echo
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(uname -sr); $(date -u +%Y-%m-%d)"
echo "cleanpath startup (bundled tables, demo file): ${startup} s wall, ${startup_cpu} s CPU, ${startup_rss} KB peak RSS"
echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| file | packets | MB | tool | wall s | CPU s | packets/s (wall) | MB/s (wall) | peak RSS MB | wall / cleanpath 1T |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for f in "${files[@]}"; do
    cat "$f" >/dev/null # page cache
    packets=$("$BIN" analyze -q --json "$f" 2>/dev/null | tail -n 1 |
        sed -n 's/.*"frames":\([0-9]*\),"wire_bytes".*/\1/p' || true)
    bytes=$(stat -c %s "$f")
    mb=$(awk "BEGIN {printf \"%.1f\", $bytes / 1e6}")
    declare -A wall=() rss=() cpu=()
    order=()
    for t in $THREADS; do
        k="cleanpath analyze --threads $t"
        read -r w r c < <(measure "$BIN" analyze -q --threads "$t" "$f")
        wall[$k]=$w rss[$k]=$r cpu[$k]=$c
        order+=("$k")
    done
    for p in $PEERS; do
        case $p in
            tshark) k="tshark -q -z conv,ip"; cmd=(tshark -n -q -z conv,ip -r "$f") ;;
            tshark-phs) k="tshark -q -z io,phs"; cmd=(tshark -n -q -z io,phs -r "$f") ;;
            ndpi) k="ndpiReader -i"; cmd=(ndpiReader -i "$f") ;;
            tcpdump) k="tcpdump -r -w /dev/null"; cmd=(tcpdump -n -Z root -r "$f" -w /dev/null) ;; # -Z root: no chown of /dev/null
            *) continue ;;
        esac
        read -r w r c < <(measure "${cmd[@]}")
        wall[$k]=$w rss[$k]=$r cpu[$k]=$c
        order+=("$k")
    done
    base=${wall["cleanpath analyze --threads 1"]:-0}
    for k in "${order[@]}"; do
        awk -v f="$(basename "$f")" -v p="$packets" -v mb="$mb" -v k="$k" -v w="${wall[$k]}" \
            -v r="${rss[$k]}" -v c="${cpu[$k]}" -v b="$base" 'BEGIN {
            ww = (w > 0) ? w : 0.001;
            printf "| %s | %d | %s | %s | %.2f | %.2f | %.2f M | %.0f | %.0f | %.2f× |\n",
                f, p, mb, k, w, c, p / ww / 1e6, mb / ww, r / 1024, (b > 0) ? w / b : 0 }'
    done
    unset wall rss cpu
done
echo
echo "cleanpath rows include its startup (${startup} s); packets/s after startup = packets / (wall - startup)."
