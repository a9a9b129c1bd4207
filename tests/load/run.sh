#!/usr/bin/env bash
# The load benchmark: AiEdge against the peers a user would pick, on the same handlers, in one run. It builds the
# sample and the load-bench app in Release and starts, each on its own port:
#   bare      the sample's handlers on bare Kestrel (the same host builder and endpoint code, no edge at all);
#   builtins  the same handlers behind ASP.NET Core's built-ins doing the edge's jobs: UseForwardedHeaders trusting
#             the proxy, a middleware setting four security headers, UseCors for one origin, UseRateLimiter with a
#             token bucket partitioned by client IP (limits high enough never to reject);
#   builtins2 the same built-ins app in a second process, target builtins-aa: the A/A control, two identical
#             targets measured like every pair, so that the spread of their per-round ratio shows how far apart
#             this host puts two equals (a ratio inside that spread tells the two sides apart in no round);
#   samejobs  the train handler behind AiEdge doing only those jobs (forwarded headers, the same four security header
#             fields, CORS for one origin, a rate-limit tier per client IP), target aiedge-samejobs;
#   nginx     NGINX as the seeds configure it (realip, limit_req, proxy_cache for POST with the body in the key,
#             security headers `always`) in front of bare Kestrel;
#   aiedge    the sample (AddAiEdge()/UseAiEdge()), in memory; and, when redis-server is there, the sample sharing
#             limits, cache and locks through a real redis-server, and the same with rate-limit leases on
#             (AiEdge:Redis:RateLimitLeases, target aiedge-redis-lease-limit);
#   gateway   the gateway sample (AiEdge in front of YARP) and NGINX configured as seed 003's gateway, both relaying
#             an API-key-checked, rate-limited embeddings call to the bare app as the model server; and YARP alone
#             (LoadBench yarp, target gateway-yarp) relaying the same call with nothing of AiEdge.
# Every target is warmed up under full load until the JIT's tiered compilation has settled, then measured with wrk
# on loopback in rounds; each round runs every target once, the two sides of each ratio back to back, in the
# opposite order every other round. Each ratio is computed within each round and reported as the median and range
# of the rounds' own ratios, with the servers' CPU time per request (utime + stime from /proc/<pid>/stat over the
# measured run, divided by the requests served: it does not depend on how the cores were shared with wrk).
#   tests/load/run.sh [--duration 10s] [--warmup 15s] [--connections 64] [--rounds 3] [--streams 200] [--no-redis]
#   tests/load/run.sh --quick    # a smoke run: every target once, briefly (the figures mean nothing)
# Needs: wrk, nginx (installed with apt-get when missing, as root or through sudo); redis-server is optional.
set -euo pipefail
load_before=$(cut -d" " -f1-3 /proc/loadavg)
root=$(cd "$(dirname "$0")/../.." && pwd)
duration=10s; warmup=15s; connections=64; rounds=3; streams=200; use_redis=1; quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --no-redis) use_redis=0; shift ;;
    --quick) quick=1; duration=1s; warmup=1s; connections=8; rounds=1; streams=10; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
[ "$use_redis" = 0 ] || command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]}..." >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || true
fi
command -v wrk >/dev/null || { echo "wrk is required" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "nginx is required" >&2; exit 1; }
command -v redis-server >/dev/null || use_redis=0

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
wait_http() { for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not answering: $1" >&2; return 1; }

echo "Building (Release)..." >&2
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet publish "$root/samples/AiEdge.Samples.ModelApi" -c Release -o "$work/sample" >/dev/null
dotnet publish "$root/tests/AiEdge.Middleware.LoadBench" -c Release -o "$work/bench" >/dev/null
dotnet publish "$root/samples/AiEdge.Samples.Gateway" -c Release -o "$work/gateway" >/dev/null

bare_port=$(free_port); builtins_port=$(free_port); builtins2_port=$(free_port); samejobs_port=$(free_port); sample_port=$(free_port); nginx_port=$(free_port); gateway_port=$(free_port); yarp_port=$(free_port)

# Limits raised so that nothing is rejected (the chat route's concurrency tier too, or the streams test would measure
# its queue and refusals): the benchmark measures the cost of the decisions, not refusals.
sample_env=(
  ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning
  AiEdge__RateLimiting__Tiers__predict__Rate=1000000r/s AiEdge__RateLimiting__Tiers__predict__Burst=1000000
  AiEdge__RateLimiting__Tiers__train__Rate=1000000r/s AiEdge__RateLimiting__Tiers__train__Burst=1000000
  AiEdge__RateLimiting__Tiers__generate__Rate=1000000r/s AiEdge__RateLimiting__Tiers__generate__Burst=1000000
  AiEdge__RateLimiting__Tiers__generate__TokenBudget__Tokens=1000000000
  AiEdge__Concurrency__Tiers__generate__Limit=100000
  Sample__TokenDelayMs=20 Sample__InProcessMetrics=false
  # The four security header fields NGINX (tests/load/nginx.conf.template, as the seeds configure it) and the built-ins
  # send, with the same values: every side writes the same fields, the sample's three further defaults are left out.
  AiEdge__SecurityHeaders__ReferrerPolicy=strict-origin-when-cross-origin AiEdge__SecurityHeaders__CrossOriginOpenerPolicy=
  AiEdge__SecurityHeaders__CrossOriginResourcePolicy= AiEdge__SecurityHeaders__PermissionsPolicy=
)

# The bare and built-ins apps run on the same host defaults and environment as the sample: only the edge differs.
(cd "$work/bench" && exec env "${sample_env[@]}" dotnet AiEdge.Middleware.LoadBench.dll bare --urls "http://127.0.0.1:$bare_port" >"$work/bare.log" 2>&1) & pids+=($!)
bare_pid=$!
(cd "$work/bench" && exec env "${sample_env[@]}" dotnet AiEdge.Middleware.LoadBench.dll builtins --urls "http://127.0.0.1:$builtins_port" >"$work/builtins.log" 2>&1) & pids+=($!)
builtins_pid=$!
(cd "$work/bench" && exec env "${sample_env[@]}" dotnet AiEdge.Middleware.LoadBench.dll builtins --urls "http://127.0.0.1:$builtins2_port" >"$work/builtins2.log" 2>&1) & pids+=($!)
builtins2_pid=$!
# Its settings are its own (SameJobs.cs): the sample's tiers and concurrency keys would name packages it does not add.
(cd "$work/bench" && exec env ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning dotnet AiEdge.Middleware.LoadBench.dll samejobs --urls "http://127.0.0.1:$samejobs_port" >"$work/samejobs.log" 2>&1) & pids+=($!)
samejobs_pid=$!
(cd "$work/sample" && exec env "${sample_env[@]}" dotnet AiEdge.Samples.ModelApi.dll --urls "http://127.0.0.1:$sample_port" >"$work/sample.log" 2>&1) & pids+=($!)
sample_pid=$!
# The gateway sample with every destination pointed at the bare app (its embeddings endpoint) and the api tier raised.
gateway_env=(
  ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning
  AiEdge__RateLimiting__Tiers__api__Rate=1000000r/s AiEdge__RateLimiting__Tiers__api__Burst=1000000
  "ReverseProxy__Clusters__vllm__Destinations__gpu-0__Address=http://127.0.0.1:$bare_port"
  "ReverseProxy__Clusters__vllm__Destinations__gpu-1__Address=http://127.0.0.1:$bare_port"
  ReverseProxy__Clusters__vllm__HealthCheck__Active__Path=/healthz
  "ReverseProxy__Clusters__qdrant__Destinations__qdrant-0__Address=http://127.0.0.1:$bare_port"
)
(cd "$work/gateway" && exec env "${gateway_env[@]}" dotnet AiEdge.Samples.Gateway.dll --urls "http://127.0.0.1:$gateway_port" >"$work/gateway.log" 2>&1) & pids+=($!)
gateway_pid=$!
(cd "$work/bench" && exec env ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning dotnet AiEdge.Middleware.LoadBench.dll yarp --urls "http://127.0.0.1:$yarp_port" --YarpAlone:Destinations:0 "http://127.0.0.1:$bare_port" --YarpAlone:Destinations:1 "http://127.0.0.1:$bare_port" >"$work/yarp.log" 2>&1) & pids+=($!)
yarp_pid=$!
if [ "$use_redis" = 1 ]; then
  redis_port=$(free_port); redis_sample_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null & pids+=($!)
  redis_pid=$!
  (cd "$work/sample" && exec env "${sample_env[@]}" AiEdge__Redis__Configuration="127.0.0.1:$redis_port" dotnet AiEdge.Samples.ModelApi.dll --urls "http://127.0.0.1:$redis_sample_port" >"$work/redis-sample.log" 2>&1) & pids+=($!)
  redis_sample_pid=$!
  # The same sample with rate-limit leases on (most admissions from a lease, no round trip), its own keys.
  lease_sample_port=$(free_port)
  (cd "$work/sample" && exec env "${sample_env[@]}" AiEdge__Redis__Configuration="127.0.0.1:$redis_port" AiEdge__Redis__KeyPrefix=aiedge-lease: AiEdge__Redis__RateLimitLeases__Enabled=true dotnet AiEdge.Samples.ModelApi.dll --urls "http://127.0.0.1:$lease_sample_port" >"$work/lease-sample.log" 2>&1) & pids+=($!)
  lease_sample_pid=$!
fi
sed -e "s#__DIR__#$work#g" -e "s#__UPSTREAM__#$bare_port#g" -e "s#__PORT__#$nginx_port#g" "$root/tests/load/nginx.conf.template" > "$work/nginx.conf"
mkdir -p "$work/nginx-cache"
"$nginx_bin" -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"

wait_http "http://127.0.0.1:$bare_port/healthz"; wait_http "http://127.0.0.1:$builtins_port/healthz"
wait_http "http://127.0.0.1:$builtins2_port/healthz"
wait_http "http://127.0.0.1:$samejobs_port/healthz"
wait_http "http://127.0.0.1:$sample_port/healthz"; wait_http "http://127.0.0.1:$nginx_port/healthz"
wait_http "http://127.0.0.1:$gateway_port/healthz"; wait_http "http://127.0.0.1:$yarp_port/healthz"
[ "$use_redis" = 0 ] || wait_http "http://127.0.0.1:$redis_sample_port/healthz"
[ "$use_redis" = 0 ] || wait_http "http://127.0.0.1:$lease_sample_port/healthz"

# target -> base URL | wrk script (tests/load/<script>.lua).
declare -A url=(
  [bare-floor]="http://127.0.0.1:$bare_port|floor"
  [bare-miss]="http://127.0.0.1:$bare_port|miss"
  [bare-train]="http://127.0.0.1:$bare_port|train"
  [builtins-miss]="http://127.0.0.1:$builtins_port|miss"
  [builtins-train]="http://127.0.0.1:$builtins_port|train"
  [builtins-aa]="http://127.0.0.1:$builtins2_port|train"
  [aiedge-samejobs]="http://127.0.0.1:$samejobs_port|train"
  [nginx-miss]="http://127.0.0.1:$nginx_port|miss"
  [nginx-hit]="http://127.0.0.1:$nginx_port|hit"
  [aiedge-miss]="http://127.0.0.1:$sample_port|miss"
  [aiedge-hit]="http://127.0.0.1:$sample_port|hit"
  [aiedge-limit]="http://127.0.0.1:$sample_port|train"
  [gateway-aiedge]="http://127.0.0.1:$gateway_port|embeddings"
  [gateway-nginx]="http://127.0.0.1:$nginx_port|embeddings"
  [gateway-yarp]="http://127.0.0.1:$yarp_port|embeddings"
)
redis_limit=(); redis_miss=()
if [ "$use_redis" = 1 ]; then
  url[aiedge-redis-limit]="http://127.0.0.1:$redis_sample_port|train"
  url[aiedge-redis-miss]="http://127.0.0.1:$redis_sample_port|miss"
  url[aiedge-redis-lease-limit]="http://127.0.0.1:$lease_sample_port|train"
  redis_limit=(aiedge-redis-limit aiedge-redis-lease-limit); redis_miss=(aiedge-redis-miss)
fi
# The sides of each ratio stand next to each other, so that in every round they run back to back: the goals' pairs,
# the control's, and Redis beside in memory; the context rows that cannot also be adjacent sit one target apart.
order=(aiedge-samejobs builtins-aa builtins-train aiedge-limit "${redis_limit[@]}" bare-train nginx-hit aiedge-hit bare-floor nginx-miss aiedge-miss "${redis_miss[@]}" builtins-miss bare-miss gateway-nginx gateway-aiedge gateway-yarp)
declare -A rps p50 p99 errs cpu

# The processes that serve a target (NGINX: its workers and the app behind it; Redis mode: the app and redis-server).
servers() {
  case "$1" in
    bare-*) echo "$bare_pid" ;;
    builtins-aa) echo "$builtins2_pid" ;;
    builtins-*) echo "$builtins_pid" ;;
    aiedge-samejobs) echo "$samejobs_pid" ;;
    nginx-*|gateway-nginx) echo "$(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ') $bare_pid" ;;
    gateway-aiedge) echo "$gateway_pid $bare_pid" ;;
    gateway-yarp) echo "$yarp_pid $bare_pid" ;;
    aiedge-redis-lease-*) echo "$lease_sample_pid $redis_pid" ;;
    aiedge-redis-*) echo "$redis_sample_pid $redis_pid" ;;
    *) echo "$sample_pid" ;;
  esac
}
# utime + stime of those processes, in clock ticks.
ticks() { local t=0 p; for p in $(servers "$1"); do t=$(( t + $(awk '{ print $14 + $15 }' "/proc/$p/stat") )); done; echo "$t"; }
hz=$(getconf CLK_TCK)

to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }

# Warm-up under full load: the JIT's tiered compilation (which takes longer the more code a request runs), the
# connection pools, and for the miss targets a cache that is full and evicting, as it is in steady state.
for t in "${order[@]}"; do IFS='|' read -r u s <<<"${url[$t]}"; wrk -t2 -c"$connections" -d"$warmup" -s "$root/tests/load/$s.lua" "$u" >/dev/null; done

for round in $(seq 1 "$rounds"); do
  # Odd rounds run the order forwards, even rounds backwards: neither side of a ratio always goes first.
  this=("${order[@]}")
  if [ $((round % 2)) = 0 ]; then this=(); for ((i = ${#order[@]} - 1; i >= 0; i--)); do this+=("${order[$i]}"); done; fi
  for t in "${this[@]}"; do
    IFS='|' read -r u s <<<"${url[$t]}"
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
range() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s–%s", lo, hi }'; }

rss_before=$(awk '/VmRSS/ { print $2 }' "/proc/$sample_pid/status")
stream_line=$("$work/bench/AiEdge.Middleware.LoadBench" streams --url "http://127.0.0.1:$sample_port/v1/chat/completions" --count "$streams" 2>&1 || true)
rss_peak=$(awk '/VmHWM/ { print $2 }' "/proc/$sample_pid/status")
bare_stream_line=$("$work/bench/AiEdge.Middleware.LoadBench" streams --url "http://127.0.0.1:$bare_port/v1/chat/completions" --count "$streams" 2>&1 || true)

echo
echo "| target | requests/s: median (range) | p50 (ms) | p99 (ms) | server CPU per request (µs): median (range) | non-2xx |"
echo "|---|---:|---:|---:|---:|---:|"
for t in "${order[@]}"; do
  echo "| $t | $(median "${rps[$t]}") ($(range "${rps[$t]}")) | $(median "${p50[$t]}") | $(median "${p99[$t]}") | $(median "${cpu[$t]}") ($(range "${cpu[$t]}")) | ${errs[$t]} |"
done
# A ratio of requests/s computed within each round (its two targets ran back to back, under the same conditions),
# printed as the median of the rounds' ratios and their range, and how many rounds met the goal.
paired() {
  awk -v a="$1" -v b="$2" -v goal="$3" 'BEGIN {
    n = split(a, x, " "); split(b, y, " "); m = 0; met = 0
    for (i = 1; i <= n; i++) if (y[i] > 0) { r[++m] = x[i] / y[i]; if (goal != "" && r[m] >= goal) met++ }
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
    if (m == 0) { print "— | — |"; exit }
    med = (m % 2) ? r[(m + 1) / 2] : (r[m / 2] + r[m / 2 + 1]) / 2
    printf "%.2f | %.2f–%.2f |", med, r[1], r[m]
    if (goal != "") printf " >= %.2f | %d of %d", goal, met, m; else printf " — | —"
  }'
}
# Server CPU per request of the first target minus the second's, median of the rounds' differences.
cpu_delta() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    n = split(a, x, " "); split(b, y, " ")
    for (i = 1; i <= n; i++) d[i] = x[i] - y[i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (d[j] < d[i]) { t = d[i]; d[i] = d[j]; d[j] = t }
    med = (n % 2) ? d[(n + 1) / 2] : (d[n / 2] + d[n / 2 + 1]) / 2
    printf "%+.1f", med
  }'
}
row() { [ -n "${rps[$2]:-}" ] && [ -n "${rps[$3]:-}" ] || return 0; echo "| $1 | $(paired "${rps[$2]}" "${rps[$3]}" "$4") | $(cpu_delta "${cpu[$2]}" "${cpu[$3]}") |"; }
echo
echo "| ratio (requests/s, paired within each round) | median | range | goal | rounds meeting it | server CPU per request, difference (µs) |"
echo "|---|---:|---:|---:|---:|---:|"
row "AiEdge without the cache / ASP.NET Core built-ins (uncached limited route)" aiedge-limit builtins-train 1.00
row "AiEdge hit / NGINX proxy_cache hit" aiedge-hit nginx-hit 1.10
row "AiEdge miss / NGINX proxy in front of bare Kestrel" aiedge-miss nginx-miss 1.50
row "AiEdge with Redis-shared limits / in memory (uncached limited route)" aiedge-redis-limit aiedge-limit 0.75
row "AiEdge with Redis leases / in memory (uncached limited route, AiEdge:Redis:RateLimitLeases on)" aiedge-redis-lease-limit aiedge-limit 0.75
row "Gateway: AiEdge + YARP / NGINX proxy (embeddings: API key, limit, relay to the model server)" gateway-aiedge gateway-nginx ""
row "Context: AiEdge + YARP / YARP alone (embeddings relay: what the edge adds to the proxy)" gateway-aiedge gateway-yarp ""
row "Context: AiEdge miss / ASP.NET Core built-ins (predict route, no cache)" aiedge-miss builtins-miss ""
row "Context: AiEdge miss / bare Kestrel" aiedge-miss bare-miss ""
row "Context: ASP.NET Core built-ins / bare Kestrel (uncached limited route)" builtins-train bare-train ""
row "Context: AiEdge doing only the built-ins' jobs / ASP.NET Core built-ins (uncached limited route)" aiedge-samejobs builtins-train ""
row "Context: AiEdge with Redis / in memory, cache miss (limits, L2 and cross-replica lock in Redis)" aiedge-redis-miss aiedge-miss ""
row "Control (A/A): ASP.NET Core built-ins in a second process / the same app (uncached limited route)" builtins-aa builtins-train ""
row "Context: Kestrel's floor (empty GET through routing, bare app) / NGINX proxy_cache hit" bare-floor nginx-hit ""
echo
echo "Event streams ($streams concurrent, 16 tokens at 20 ms): AiEdge: $stream_line; bare: $bare_stream_line"
echo "AiEdge sample memory: RSS $((rss_before / 1024)) MiB before streams, peak $((rss_peak / 1024)) MiB"
echo
redis_note=""; [ "$use_redis" = 1 ] && redis_note=", $(redis-server --version | awk '{ print $1, $3 }' | sed 's/v=//')"
echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), .NET $(dotnet --version), $("$nginx_bin" -v 2>&1 | sed 's#.*/#nginx #')$redis_note; wrk -t2 -c$connections -d$duration after a $warmup warm-up per target, $rounds rounds; load average before the run: $load_before."
[ "$quick" = 0 ] || echo "Quick mode: a smoke run, the figures mean nothing."
