using Microsoft.ML.PaperExtensions.Survival;

namespace Microsoft.ML.PaperExtensions.Tests.Survival;

/// <summary>Data drawn from a known APGW regression by inversion, T = Q(U), with independent exponential censoring.</summary>
internal static class SurvivalSimulation
{
    internal sealed class Row
    {
        public float Time { get; set; }

        public bool Event { get; set; }

        public float X { get; set; }

        public float Z { get; set; }

        public float Entry { get; set; }
    }

    /// <summary>log lambda = beta0 + beta1 x, log gamma = alpha0 + alpha1 z, phi = exp(tau0), kappa given.</summary>
    internal sealed record Truth(double Tau0, double Beta0, double Beta1, double Alpha0, double Alpha1, double Kappa)
    {
        public ApgwDistribution For(double x, double z) => new(Math.Exp(Tau0), Math.Exp(Beta0 + Beta1 * x), Math.Exp(Alpha0 + Alpha1 * z), Kappa);
    }

    public static Row[] Draw(Truth truth, int n, int seed, double censoringRate = 0.2)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var x = random.NextDouble() * 2 - 1;
            var z = random.NextDouble() < 0.5 ? 1.0 : 0.0;
            var time = truth.For(x, z).Quantile(random.NextDouble());
            var censor = -Math.Log(1 - random.NextDouble()) / censoringRate;
            return new Row { Time = (float)Math.Min(time, censor), Event = time <= censor, X = (float)x, Z = (float)z };
        }).Where(r => r.Time > 0).ToArray();
    }
}
