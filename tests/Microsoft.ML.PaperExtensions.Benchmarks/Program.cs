using BenchmarkDotNet.Running;

// ./build.sh bench [BenchmarkDotNet arguments], for example: ./build.sh bench --filter '*Concordance*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
