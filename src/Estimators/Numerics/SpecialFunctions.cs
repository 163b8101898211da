namespace Microsoft.ML.PaperExtensions.Numerics;

/// <summary>The few special functions the package needs for p-values.</summary>
internal static class SpecialFunctions
{
    /// <summary>log Gamma(x), x &gt; 0 (Lanczos, g = 7, about 15 significant digits).</summary>
    public static double LogGamma(double x)
    {
        double[] c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
        if (x < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        x -= 1;
        var sum = c[0];
        for (var i = 1; i < c.Length; i++) sum += c[i] / (x + i);
        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    /// <summary>The regularised upper incomplete gamma function Q(a, x) = Gamma(a, x) / Gamma(a).</summary>
    public static double UpperRegularizedGamma(double a, double x)
    {
        if (x <= 0) return 1;
        var logPrefactor = -x + a * Math.Log(x) - LogGamma(a);
        if (x < a + 1)
        {
            // Series for P(a, x).
            double term = 1 / a, sum = term;
            for (var n = 1; n < 1000 && Math.Abs(term) > Math.Abs(sum) * 1e-16; n++)
            {
                term *= x / (a + n);
                sum += term;
            }
            return 1 - sum * Math.Exp(logPrefactor);
        }
        // Continued fraction for Q(a, x) (modified Lentz).
        double b = x + 1 - a, c = 1 / 1e-300, d = 1 / b, h = d;
        for (var i = 1; i < 1000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < 1e-300) d = 1e-300;
            c = b + an / c;
            if (Math.Abs(c) < 1e-300) c = 1e-300;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(logPrefactor) * h;
    }

    /// <summary>P(chi2 with <paramref name="degreesOfFreedom"/> &gt; x).</summary>
    public static double ChiSquareUpperTail(double x, double degreesOfFreedom) => UpperRegularizedGamma(degreesOfFreedom / 2, x / 2);

    /// <summary>Two-sided normal p-value of a z statistic: P(|Z| &gt; |z|) = Q(1/2, z^2/2).</summary>
    public static double NormalTwoSided(double z) => double.IsFinite(z) ? UpperRegularizedGamma(0.5, z * z / 2) : double.NaN;
}
