#!/usr/bin/env bash
# Pipeline capacity before and after: builds these benchmarks against the source of BASE (a git ref,
# default ce071f9, the commit before the performance work) in a scratch directory and against the working
# tree, runs the capacity measurement of each on CPU 0, one after the other, and writes the comparison
# (figures and ratios) to bench/results/pipeline-before-after.md. With --bdn it also runs the
# BenchmarkDotNet benchmarks of both builds (decoder, JSON, aggregator, graph; ShortRun unless BDN_JOB is set).
#
#   bench/TaskstatsActors.Benchmarks/before-after.sh [BASE] [--bdn] [-- capacity options...]
#
# The scratch directory (printed at the end) is left in place; delete it yourself when done.
set -euo pipefail

base=ce071f9
bdn=false
capacity_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --bdn) bdn=true ;;
        --) shift; capacity_args=("$@"); break ;;
        *) base=$1 ;;
    esac
    shift
done

root=$(git rev-parse --show-toplevel)
results=$root/bench/results
scratch=$(mktemp -d /tmp/taskstats-bench-base.XXXXXX)
mkdir -p "$results"

echo "== baseline $base in $scratch"
git -C "$root" archive "$base" src Directory.Build.props Directory.Packages.props tests/TaskstatsActors.Kernel.Tests/Fixtures | tar -x -C "$scratch"
mkdir -p "$scratch/bench"
tar -C "$root" -c --exclude=bin --exclude=obj --exclude=BenchmarkDotNet.Artifacts bench/TaskstatsActors.Benchmarks | tar -x -C "$scratch"
# The benchmarks run the internal graph; older sources may not let them see it yet.
collector="$scratch/src/TaskstatsActors.Collector/TaskstatsActors.Collector.csproj"
grep -q 'InternalsVisibleTo Include="TaskstatsActors.Benchmarks"' "$collector" ||
    sed -i 's|</Project>|  <ItemGroup>\n    <InternalsVisibleTo Include="TaskstatsActors.Benchmarks" />\n  </ItemGroup>\n</Project>|' "$collector"

for tree in "$scratch" "$root"; do
    echo "== building $tree"
    dotnet build -c Release "$tree/bench/TaskstatsActors.Benchmarks" -v quiet -nologo
done

run() { # tree label
    taskset -c 0 dotnet "$1/bench/TaskstatsActors.Benchmarks/bin/Release/net10.0/TaskstatsActors.Benchmarks.dll" \
        capacity --label "$2" --out "$results/pipeline-$2.md" --save "$results/pipeline-$2.json" "${capacity_args[@]}"
}
echo "== capacity, before"
run "$scratch" before
echo "== capacity, after"
run "$root" after
dotnet "$root/bench/TaskstatsActors.Benchmarks/bin/Release/net10.0/TaskstatsActors.Benchmarks.dll" \
    compare "$results/pipeline-before.json" "$results/pipeline-after.json" "$results/pipeline-before-after.md"
cp "$results/pipeline-after.md" "$results/pipeline.md"

if $bdn; then
    for tree in "$scratch" "$root"; do
        label=$([ "$tree" = "$root" ] && echo after || echo before)
        echo "== BenchmarkDotNet, $label"
        (cd "$tree/bench/TaskstatsActors.Benchmarks" &&
            dotnet bin/Release/net10.0/TaskstatsActors.Benchmarks.dll --filter '*Decoder*' '*Json*' '*Aggregator*' --job "${BDN_JOB:-short}" &&
            dotnet bin/Release/net10.0/TaskstatsActors.Benchmarks.dll --filter '*Graph*')
        cat "$tree"/bench/TaskstatsActors.Benchmarks/BenchmarkDotNet.Artifacts/results/*-report-github.md > "$results/benchmarkdotnet-$label.md"
    done
    echo "BenchmarkDotNet tables: $results/benchmarkdotnet-before.md, $results/benchmarkdotnet-after.md"
fi
echo "comparison: $results/pipeline-before-after.md; scratch tree: $scratch"
