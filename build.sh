#!/usr/bin/env bash
# One entry point for users and CI.
#   ./build.sh demo        native set-up, restore, build, run the demo on the bundled data
#   ./build.sh test        native set-up, then the test suite (all but [TestCategory("Slow")])
#   ./build.sh test-all    native set-up, then every test, the slow ones too
#   ./build.sh bench [..]  BenchmarkDotNet in Release; extra arguments go to BenchmarkDotNet (for example --filter '*Reader*')
#   ./build.sh pack        NuGet packages (.nupkg and .snupkg) of the three libraries into nuget/
#   ./build.sh consume     pack, then build and run samples/PaperExtensions.Consume from the packages alone and
#                          compare its predictions with samples/PaperExtensions.Consume/expected-output.txt
#   ./build.sh setup       only the native set-up (eng/setup-native.sh)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

solution=Microsoft.ML.PaperExtensions.sln
libraries=(src/Estimators/Microsoft.ML.PaperExtensions.csproj src/Trainers/Microsoft.ML.PaperExtensions.Trainers.csproj src/Transforms/Microsoft.ML.PaperExtensions.Transforms.csproj)

pack() {
  rm -f nuget/*.nupkg nuget/*.snupkg
  local repository=() commit
  commit=$(git rev-parse HEAD 2>/dev/null || true)
  [ -n "$commit" ] && repository+=("-p:RepositoryCommit=$commit")
  if url=$(git remote get-url origin 2>/dev/null); then repository+=("-p:RepositoryUrl=$url"); fi
  for project in "${libraries[@]}"; do
    dotnet pack "$project" -c Release -v quiet -nologo "${repository[@]}"
  done
  ls nuget/*.nupkg nuget/*.snupkg
}

run_tests() {
  local log status scratch
  log=$(mktemp)
  # The tests' temporary files (ML.NET writes every in-memory ONNX model to one, and leaves it when a model is not
  # disposed) go to a folder of their own that is removed afterwards, so repeated runs do not fill the disk.
  scratch=$(mktemp -d)
  # A 256 MB gen0 budget: about a hundredth as many garbage collections. TorchSharp 0.107 hands temporary Scalars to
  # libtorch without keeping them alive (dotnet/TorchSharp#1496), so a collection started on another thread during a native
  # call can free one ("Unknown scalar type"); it failed one survival test in about three CI runs before this.
  set +e
  DOTNET_GCgen0size=0x10000000 TMPDIR="$scratch" dotnet test "$solution" "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  rm -rf "$scratch"
  # One plain summary line for people and CI, summed over the test assemblies.
  awk '/(Passed|Failed)!/ {
         for (i = 1; i <= NF; i++) { v = $(i + 1); gsub(",", "", v)
           if ($i == "Failed:") f += v; if ($i == "Passed:") p += v; if ($i == "Skipped:") s += v }
         seen = 1 }
       END { if (seen) printf "tests: %d passed, %d failed, %d skipped\n", p, f, s; else print "tests: no summary found" }' "$log"
  rm -f "$log"
  return "$status"
}

command=${1:-help}
shift || true
case "$command" in
  setup)
    bash eng/setup-native.sh ;;
  demo)
    bash eng/setup-native.sh
    dotnet build samples/PaperExtensions.Demo/PaperExtensions.Demo.csproj -c Release -v quiet -nologo
    dotnet run --project samples/PaperExtensions.Demo/PaperExtensions.Demo.csproj -c Release --no-build ;;
  test)
    bash eng/setup-native.sh
    run_tests --filter "TestCategory!=Slow" "$@" ;;
  test-all)
    bash eng/setup-native.sh
    run_tests "$@" ;;
  bench)
    bash eng/setup-native.sh
    dotnet run --project tests/Microsoft.ML.PaperExtensions.Benchmarks/Microsoft.ML.PaperExtensions.Benchmarks.csproj -c Release -- "$@" ;;
  pack)
    pack ;;
  consume)
    bash eng/setup-native.sh
    pack
    consume=samples/PaperExtensions.Consume
    rm -rf "$consume/obj" "$consume/bin"
    dotnet build "$consume/PaperExtensions.Consume.csproj" -c Release -v quiet -nologo
    actual=$(mktemp)
    dotnet run --project "$consume/PaperExtensions.Consume.csproj" -c Release --no-build -- samples/data/soup.csv > "$actual"
    if diff -u "$consume/expected-output.txt" "$actual"; then echo "consume: the packaged model predicts as expected"; else echo "consume: predictions differ from $consume/expected-output.txt" >&2; exit 1; fi ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    [ "$command" = help ] ;;
esac
