#!/usr/bin/env bash
# The load benchmark: builds the sample and a bare Kestrel app in Release, starts NGINX (as the seeds configure
# it) in front of bare Kestrel and a real redis-server, then measures every target with wrk on loopback,
# alternating targets round by round, and prints a Markdown table with the ratios the project targets, and the
# server-side CPU time per request (the servers' own CPU, so it does not depend on how much the load generator takes).
# Every target is first warmed up under full load until the JIT's tiered compilation has settled.
#   tests/load/run.sh [--duration 10s] [--warmup 15s] [--connections 64] [--rounds 2] [--streams 200]
# Needs: wrk, nginx, redis-server (installed with apt-get when missing, as root).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
duration=10s; warmup=15s; connections=64; rounds=2; streams=200
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/aiedge-load.XXXXXX)
chmod 755 "$work"   # NGINX workers run unprivileged and must reach the cache and temp folders
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 1 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not answering: $1" >&2; return 1; }

echo "Building (Release)..." >&2
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet publish "$root/samples/AiEdge.Samples.ModelApi" -c Release -o "$work/sample" >/dev/null
dotnet publish "$root/tests/AiEdge.Middleware.LoadBench" -c Release -o "$work/bench" >/dev/null

bare_port=$(free_port); sample_port=$(free_port); redis_sample_port=$(free_port); nginx_port=$(free_port); redis_port=$(free_port)

# Limits raised so that nothing is rejected: the benchmark measures the cost of the decisions, not refusals.
sample_env=(
  ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning
  AiEdge__RateLimiting__Tiers__predict__Rate=1000000r/s AiEdge__RateLimiting__Tiers__predict__Burst=1000000
  AiEdge__RateLimiting__Tiers__train__Rate=1000000r/s AiEdge__RateLimiting__Tiers__train__Burst=1000000
  AiEdge__RateLimiting__Tiers__generate__Rate=1000000r/s AiEdge__RateLimiting__Tiers__generate__Burst=1000000
  AiEdge__RateLimiting__Tiers__generate__TokenBudget__Tokens=1000000000
  Sample__TokenDelayMs=20
)

# The bare app runs on the same host defaults and environment as the sample: only AiEdge differs.
(cd "$work/bench" && exec env "${sample_env[@]}" dotnet AiEdge.Middleware.LoadBench.dll bare --urls "http://127.0.0.1:$bare_port") & pids+=($!)
bare_pid=$!
(cd "$work/sample" && exec env "${sample_env[@]}" dotnet AiEdge.Samples.ModelApi.dll --urls "http://127.0.0.1:$sample_port") & pids+=($!)
sample_pid=$!
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null & pids+=($!)
redis_pid=$!
(cd "$work/sample" && exec env "${sample_env[@]}" AiEdge__Redis__Configuration="127.0.0.1:$redis_port" dotnet AiEdge.Samples.ModelApi.dll --urls "http://127.0.0.1:$redis_sample_port") & pids+=($!)
redis_sample_pid=$!
sed -e "s#__DIR__#$work#g" -e "s#__UPSTREAM__#$bare_port#g" -e "s#__PORT__#$nginx_port#g" "$root/tests/load/nginx.conf.template" > "$work/nginx.conf"
mkdir -p "$work/nginx-cache"
"$nginx_bin" -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"

wait_http "http://127.0.0.1:$bare_port/healthz"; wait_http "http://127.0.0.1:$sample_port/healthz"
wait_http "http://127.0.0.1:$redis_sample_port/healthz"; wait_http "http://127.0.0.1:$nginx_port/healthz"

declare -A url=(
  [bare-miss]="http://127.0.0.1:$bare_port|miss"
  [aiedge-miss]="http://127.0.0.1:$sample_port|miss"
  [aiedge-hit]="http://127.0.0.1:$sample_port|hit"
  [nginx-miss]="http://127.0.0.1:$nginx_port|miss"
  [nginx-hit]="http://127.0.0.1:$nginx_port|hit"
  [aiedge-redis-miss]="http://127.0.0.1:$redis_sample_port|miss"
  [bare-floor]="http://127.0.0.1:$bare_port|floor"
  [bare-train]="http://127.0.0.1:$bare_port|train"
  [aiedge-limit]="http://127.0.0.1:$sample_port|train"
  [aiedge-redis-limit]="http://127.0.0.1:$redis_sample_port|train"
)
# Pairs that make a ratio run back to back: (bare-miss, aiedge-miss), (aiedge-hit, nginx-hit), (nginx-hit, bare-floor),
# (bare-train, aiedge-limit), (aiedge-limit, aiedge-redis-limit).
order=(bare-miss aiedge-miss aiedge-redis-miss nginx-miss aiedge-hit nginx-hit bare-floor bare-train aiedge-limit aiedge-redis-limit)
declare -A rps p50 p99 errs cpu

# The processes that serve a target (NGINX: its workers and the app behind it; Redis mode: the app and redis-server).
servers() {
  case "$1" in
    bare-*) echo "$bare_pid" ;;
    nginx-*) echo "$(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ') $bare_pid" ;;
    aiedge-redis-*) echo "$redis_sample_pid $redis_pid" ;;
    *) echo "$sample_pid" ;;
  esac
}
# utime + stime of those processes, in clock ticks.
ticks() { local t=0 p; for p in $(servers "$1"); do t=$(( t + $(awk '{ print $14 + $15 }' "/proc/$p/stat") )); done; echo "$t"; }
hz=$(getconf CLK_TCK)

to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }

# Warm-up under full load: the JIT's tiered compilation (which takes longer the more code a request runs), the
# connection pools, and for the miss target a cache that is full and evicting, as it is in steady state.
for t in "${order[@]}"; do IFS='|' read -r u s <<<"${url[$t]}"; wrk -t2 -c"$connections" -d"$warmup" -s "$root/tests/load/$s.lua" "$u" >/dev/null; done

for round in $(seq 1 "$rounds"); do
  for t in "${order[@]}"; do
    IFS='|' read -r u s <<<"${url[$t]}"
    [ "$s" = miss ] || [ "$s" = hit ] || [ "$s" = train ] || [ "$s" = floor ] || { echo "unknown script $s" >&2; exit 2; }
    t0=$(ticks "$t")
    out=$(wrk -t2 -c"$connections" -d"$duration" --latency -s "$root/tests/load/$s.lua" "$u")
    t1=$(ticks "$t")
    r=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    n=$(awk '/requests in/ { print $1 }' <<<"$out")
    c=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v hz="$hz" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) * 1000000 / hz / n : 0) }')
    l50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
    l99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
    e=$(awk '/Non-2xx/ { print $NF }' <<<"$out"); e=${e:-0}
    echo "round $round $t: $r req/s p50 ${l50}ms p99 ${l99}ms non-2xx $e server CPU ${c}us/request" >&2
    rps[$t]="${rps[$t]:-} $r"; p50[$t]="${p50[$t]:-} $l50"; p99[$t]="${p99[$t]:-} $l99"; cpu[$t]="${cpu[$t]:-} $c"; errs[$t]=$(( ${errs[$t]:-0} + e ))
  done
done

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

rss_before=$(awk '/VmRSS/ { print $2 }' "/proc/$sample_pid/status")
stream_line=$("$work/bench/AiEdge.Middleware.LoadBench" streams --url "http://127.0.0.1:$sample_port/v1/chat/completions" --count "$streams" 2>&1 || true)
rss_peak=$(awk '/VmHWM/ { print $2 }' "/proc/$sample_pid/status")
bare_stream_line=$("$work/bench/AiEdge.Middleware.LoadBench" streams --url "http://127.0.0.1:$bare_port/v1/chat/completions" --count "$streams" 2>&1 || true)

echo
echo "| target | requests/s | p50 (ms) | p99 (ms) | server CPU per request (µs) | non-2xx |"
echo "|---|---:|---:|---:|---:|---:|"
for t in "${order[@]}"; do
  echo "| $t | $(median "${rps[$t]}") | $(median "${p50[$t]}") | $(median "${p99[$t]}") | $(median "${cpu[$t]}") | ${errs[$t]} |"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# The two targets of a ratio run one right after the other in every round, so a round's own ratio compares them
# under the same conditions: printed as the median of the rounds' ratios and their range (the host may be busier in
# one round than in another).
paired() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    n = split(a, x, " "); split(b, y, " "); m = 0
    for (i = 1; i <= n; i++) if (y[i] > 0) r[++m] = x[i] / y[i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
    if (m == 0) { print "—"; exit }
    med = (m % 2) ? r[(m + 1) / 2] : (r[m / 2] + r[m / 2 + 1]) / 2
    printf "%.2f (%.2f–%.2f)", med, r[1], r[m]
  }'
}
row() { echo "| $1 | $(ratio "$(median "${rps[$2]}")" "$(median "${rps[$3]}")") | $(paired "${rps[$2]}" "${rps[$3]}") | $4 |"; }
echo
echo "| ratio | of the medians | per round: median (range) | target |"
echo "|---|---:|---:|---:|"
row "AiEdge miss / bare Kestrel" aiedge-miss bare-miss ">= 0.90"
row "AiEdge hit / NGINX proxy_cache hit" aiedge-hit nginx-hit ">= 1.10"
row "Redis-backed / in-memory limits (uncached limited route)" aiedge-redis-limit aiedge-limit ">= 0.75"
row "Redis-backed / in-memory, cache miss (limits, L2 and cross-replica lock in Redis)" aiedge-redis-miss aiedge-miss "—"
row "Context: AiEdge / bare Kestrel, uncached limited route (the edge without the cache)" aiedge-limit bare-train "—"
row "Context: Kestrel's floor (empty GET through routing, bare app) / NGINX proxy_cache hit" bare-floor nginx-hit "—"
echo
echo "Server CPU per request: AiEdge miss $(median "${cpu[aiedge-miss]}") µs against bare $(median "${cpu[bare-miss]}") µs (+$(awk -v a="$(median "${cpu[aiedge-miss]}")" -v b="$(median "${cpu[bare-miss]}")" 'BEGIN { printf "%.1f", a - b }') µs); AiEdge hit $(median "${cpu[aiedge-hit]}") µs against NGINX hit $(median "${cpu[nginx-hit]}") µs and Kestrel's floor $(median "${cpu[bare-floor]}") µs; uncached limited route $(median "${cpu[aiedge-limit]}") µs against bare $(median "${cpu[bare-train]}") µs."
echo
echo "Event streams ($streams concurrent, 16 tokens at 20 ms): AiEdge: $stream_line; bare: $bare_stream_line"
echo "AiEdge sample memory: RSS $((rss_before / 1024)) MiB before streams, peak $((rss_peak / 1024)) MiB"
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), .NET $(dotnet --version), $("$nginx_bin" -v 2>&1 | sed 's#.*/#nginx #'), wrk -t2 -c$connections -d$duration after a $warmup warm-up per target, $rounds rounds (medians)."
