using System.Diagnostics;
using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// Reruns the PRESTO paper's simulations 4.1 (sparse differences) and 4.2 (dense differences) with PRESTO, proportional odds
/// and a separate logistic regression, and prints the median rare-class MSE ratios next to the paper's
/// (<c>./build.sh bench presto-simulation [replicates]</c>).
/// </summary>
internal static class PrestoSimulationReport
{
    public static void Run(int replicates)
    {
        // Paper (approximate medians over 700 replicates read from its box plots): PRESTO/Logit and PRESTO/PO.
        var paper = new Dictionary<Design, (double Logit, double Po)> { [Design.SparseMiddle] = (0.56, 0.77), [Design.DenseMiddle] = (0.46, 0.84) };
        foreach (var (design, reference) in paper)
        {
            var watch = Stopwatch.StartNew();
            var results = Enumerable.Range(0, replicates).Select(r => Simulation.Run(design, 1000 + r)).ToList();
            Console.WriteLine($"{design.Name}: {replicates} replicates in {watch.Elapsed.TotalSeconds:F0} s, median rare-class share {Simulation.Median(results.Select(r => r.RareFrequency)):P2}");
            Console.WriteLine($"  median MSE   PRESTO {Simulation.Median(results.Select(r => r.Presto)):E2}   Logit {Simulation.Median(results.Select(r => r.Logit)):E2}   PO {Simulation.Median(results.Select(r => r.ProportionalOdds)):E2}");
            Console.WriteLine($"  median ratio PRESTO/Logit {Simulation.Median(results.Select(r => r.Presto / r.Logit)):F2} (paper about {reference.Logit:F2})   " +
                              $"PRESTO/PO {Simulation.Median(results.Select(r => r.Presto / r.ProportionalOdds)):F2} (paper about {reference.Po:F2})");
        }
    }
}
