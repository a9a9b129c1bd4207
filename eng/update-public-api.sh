#!/usr/bin/env bash
# Records public API changes of the shipped packages (src/*) in their PublicAPI.*.txt files; docs/versioning.md.
#
#   eng/update-public-api.sh [--ship] [Project ...]
#
# With no project, every src/*/*.csproj. A project is named by its folder (AiEdge.Middleware.Caching) or a path.
#
# Default: applies the PublicApiAnalyzers code fixes, so PublicAPI.Unshipped.txt gains every public symbol that
#   neither file declares (RS0016) and loses, or marks *REMOVED*, every declared symbol that is gone (RS0017),
#   then checks that the project builds with no public API diagnostic left. Run it after a deliberate public API
#   change (and after merging a branch that changed one), review the diff of the PublicAPI files, commit it.
# --ship: at a release, moves the Unshipped lines into PublicAPI.Shipped.txt (a *REMOVED* line deletes its
#   Shipped line), sorted, and leaves Unshipped empty. No build.
set -euo pipefail
cd "$(dirname "$0")/.."

ship=false
projects=()
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

  echo "updating: $project"
  # The code fixes of the analyzer itself write the API lines (nullable annotations included), so the files say
  # exactly what the build checks. RS0036/RS0037: nullable header; RS0041: oblivious reference types.
  dotnet format analyzers "$project" --severity warn \
    --diagnostics RS0016 RS0017 RS0036 RS0037 RS0041 --verbosity quiet
  normalize "$shipped"
  normalize "$unshipped"

done

# Then every project builds with no public API diagnostic left; a symbol the fixes could not record fails here,
# with the diagnostic that says which. (After all fixes, since a project also builds the packages it references.)
if ! $ship; then
  for project in "${projects[@]}"; do
    echo "checking: $project"
    if ! output=$(dotnet build "$project" -c Release --no-restore -nologo -v q -clp:ErrorsOnly 2>&1); then
      { printf '%s\n' "$output" | grep -E ' error ' | sort -u | head -n 40 || printf '%s\n' "$output"; } >&2
      echo "$project does not build (above); a referenced package may need this script too." >&2
      exit 1
    fi
  done
fi
