#!/usr/bin/env bash
# Records public API changes of the shipped packages (src/*) in their PublicAPI.*.txt files; docs/versioning.md.
#
#   eng/update-public-api.sh [--ship] [Project ...]
#
# With no project, every src/*/*.csproj. A project is named by its folder (AiEdge.Middleware.Caching) or a path.
#
# Default: builds each project and records what PublicApiAnalyzers reports, so PublicAPI.Unshipped.txt gains every
#   public symbol that neither file declares (RS0016) and loses, or marks *REMOVED*, every declared symbol that is
#   gone (RS0017); then checks that the project builds with no diagnostic left. Run it after a deliberate public API
#   change (and after merging a branch that changed one), review the diff of the PublicAPI files, commit it.
# --ship: at a release, moves the Unshipped lines into PublicAPI.Shipped.txt (a *REMOVED* line deletes its
#   Shipped line), sorted, and leaves Unshipped empty. No build.
set -euo pipefail
cd "$(dirname "$0")/.."

ship=false
projects=()
updated=()
for argument in "$@"; do
  case "$argument" in
    --ship) ship=true ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "unknown option: $argument" >&2; exit 2 ;;
    *.csproj) projects+=("$argument") ;;
    *) name=$(basename "$argument"); projects+=("src/$name/$name.csproj") ;;
  esac
done
if [ ${#projects[@]} -eq 0 ]; then
  projects=(src/*/*.csproj)
fi

header='#nullable enable'
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Creates a missing PublicAPI file with the nullable header the analyzer expects (RS0037 otherwise).
ensure_file() {
  [ -f "$1" ] || printf '%s\n' "$header" > "$1"
}

# Rewrites a PublicAPI file as: the header, then its declarations sorted ordinally with no duplicates.
normalize() {
  local file=$1 body
  body=$(grep -v -x -F "$header" "$file" | sed '/^[[:space:]]*$/d' | LC_ALL=C sort -u || true)
  { printf '%s\n' "$header"; [ -z "$body" ] || printf '%s\n' "$body"; } > "$file"
}

for project in "${projects[@]}"; do
  [ -f "$project" ] || { echo "no such project: $project" >&2; exit 2; }
  directory=$(dirname "$project")
  shipped="$directory/PublicAPI.Shipped.txt"
  unshipped="$directory/PublicAPI.Unshipped.txt"
  ensure_file "$shipped"
  ensure_file "$unshipped"

  if $ship; then
    removed=$(grep '^\*REMOVED\*' "$unshipped" | sed 's/^\*REMOVED\*//' || true)
    added=$(grep -v -x -F "$header" "$unshipped" | grep -v '^\*REMOVED\*' || true)
    kept=$(grep -v -x -F "$header" "$shipped" || true)
    if [ -n "$removed" ]; then
      kept=$(printf '%s\n' "$kept" | grep -v -x -F -f <(printf '%s\n' "$removed") || true)
    fi
    printf '%s\n%s\n%s\n' "$header" "$kept" "$added" > "$shipped"
    printf '%s\n' "$header" > "$unshipped"
    normalize "$shipped"
    echo "shipped: $project"
    continue
  fi

  updated+=("$project")
done

# Builds each project and records what the analyzer reports: its RS0016 and RS0017 messages carry each symbol
# exactly as the PublicAPI files spell it (nullable annotations included). RS0016 (public, not declared) adds the
# symbol to Unshipped; RS0017 (declared, gone) deletes an Unshipped line, or records a Shipped one as *REMOVED*.
# Then the project must build with no diagnostic left. Projects build the packages they reference, so run over
# several projects, dependencies first, or over all of them (the default order builds dependencies again).
if ! $ship; then
  for round in 1 2; do
    for project in "${updated[@]}"; do
      directory=$(dirname "$project")
      echo "checking: $project"
      output=$(dotnet build "$project" -c Release -nologo -v q -clp:ErrorsOnly 2>&1) && continue
      here=$(cd "$directory" && pwd)
      added=$(printf '%s\n' "$output" | grep -F "$here/" | grep ' RS0016: ' \
        | sed -n "s/.* RS0016: Symbol '\(.*\)' is not part of the declared public API.*/\1/p" | LC_ALL=C sort -u || true)
      gone_unshipped=$(printf '%s\n' "$output" | grep -F "$here/PublicAPI.Unshipped.txt(" | grep ' RS0017: ' \
        | sed -n "s/.* RS0017: Symbol '\(.*\)' is part of the declared API.*/\1/p" | LC_ALL=C sort -u || true)
      gone_shipped=$(printf '%s\n' "$output" | grep -F "$here/PublicAPI.Shipped.txt(" | grep ' RS0017: ' \
        | sed -n "s/.* RS0017: Symbol '\(.*\)' is part of the declared API.*/\1/p" | LC_ALL=C sort -u || true)
      # RS0050: a symbol recorded as *REMOVED* is back in the source; the record goes.
      back=$(printf '%s\n' "$output" | grep -F "$here/PublicAPI.Unshipped.txt(" | grep ' RS0050: ' \
        | sed -n "s/.* RS0050: Symbol '\\(.*\\)' is marked as removed.*/*REMOVED*\\1/p" | LC_ALL=C sort -u || true)
      gone_unshipped=$(printf '%s\n%s\n' "$gone_unshipped" "$back" | sed '/^$/d')
      unshipped="$directory/PublicAPI.Unshipped.txt"
      if [ -n "$gone_unshipped" ]; then
        grep -v -x -F -f <(printf '%s\n' "$gone_unshipped") "$unshipped" > "$unshipped.tmp" || true
        mv "$unshipped.tmp" "$unshipped"
      fi
      [ -z "$added" ] || printf '%s\n' "$added" >> "$unshipped"
      [ -z "$gone_shipped" ] || printf '%s\n' "$gone_shipped" | sed 's/^/*REMOVED*/' >> "$unshipped"
      normalize "$unshipped"
      if [ "$round" = 2 ] || [ -z "$added$gone_unshipped$gone_shipped" ]; then
        { printf '%s\n' "$output" | grep -E ' error ' | sort -u | head -n 40 || printf '%s\n' "$output"; } >&2
        echo "$project does not build (above)." >&2
        exit 1
      fi
    done
  done
fi
