#!/usr/bin/env bash
# One entry point for users and CI.
#   ./build.sh demo        native set-up, restore, build, run the demo on the bundled data
#   ./build.sh test        native set-up, then the test suite (all but [TestCategory("Slow")])
#   ./build.sh test-all    native set-up, then every test, the slow ones too
#   ./build.sh bench [..]  BenchmarkDotNet in Release; extra arguments go to BenchmarkDotNet (for example --filter '*Reader*')
#   ./build.sh pack        NuGet packages into nuget/
#   ./build.sh setup       only the native set-up (eng/setup-native.sh)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

solution=Microsoft.ML.PaperExtensions.sln

run_tests() {
  local log status
  log=$(mktemp)
  set +e
  dotnet test "$solution" "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
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
    dotnet pack "$solution" -c Release -v quiet -nologo
    ls nuget/*.nupkg ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    [ "$command" = help ] ;;
esac
