namespace Microsoft.ML.PaperExtensions.Survival;

/// <summary>How the hazard of an APGW distribution changes with time.</summary>
public enum HazardShape
{
    /// <summary>Constant (gamma = kappa = 1: exponential).</summary>
    Constant,
    /// <summary>Increasing.</summary>
    Increasing,
    /// <summary>Decreasing.</summary>
    Decreasing,
    /// <summary>Up, then down.</summary>
    Unimodal,
    /// <summary>Down, then up.</summary>
    Bathtub,
}

/// <summary>
/// The adapted power generalised Weibull (APGW) distribution of Burke, Jones and Noufaily (2020): with
/// <c>z = (phi t)^gamma</c>, cumulative hazard <c>H(t) = lambda H0(z; kappa)</c>, <c>H0(z; k) = ((k+1)/k) ((1 + z/(k+1))^k - 1)</c>.
/// kappa = 1 is the Weibull, kappa = 0 Burr XII (log-logistic with lambda = 1), kappa = +infinity the Gompertz limit
/// (<c>H0 = e^z - 1</c>), and -1 &lt; kappa &lt; 0 a defective distribution with a cure fraction.
/// </summary>
public sealed class ApgwDistribution
{
    /// <summary>Creates the distribution; parameters are validated in one place.</summary>
    /// <param name="phi">AFT scale, &gt; 0.</param>
    /// <param name="lambda">PH scale, &gt; 0.</param>
    /// <param name="gamma">Power shape, &gt; 0.</param>
    /// <param name="kappa">Baseline-selection shape, &gt; -1 (may be +infinity).</param>
    public ApgwDistribution(double phi, double lambda, double gamma, double kappa)
    {
        if (!(phi > 0 && double.IsFinite(phi))) throw new ArgumentOutOfRangeException(nameof(phi), phi, "phi must be positive and finite.");
        if (!(lambda > 0 && double.IsFinite(lambda))) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "lambda must be positive and finite.");
        if (!(gamma > 0 && double.IsFinite(gamma))) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be positive and finite.");
        if (!(kappa > -1)) throw new ArgumentOutOfRangeException(nameof(kappa), kappa, "kappa must be greater than -1.");
        Phi = phi;
        Lambda = lambda;
        Gamma = gamma;
        Kappa = kappa;
    }

    /// <summary>AFT scale.</summary>
    public double Phi { get; }

    /// <summary>PH scale.</summary>
    public double Lambda { get; }

    /// <summary>Power shape.</summary>
    public double Gamma { get; }

    /// <summary>Baseline-selection shape (+infinity for the Gompertz limit).</summary>
    public double Kappa { get; }

    /// <summary>S(infinity): exp(-lambda (1 + kappa) / (-kappa)) when kappa &lt; 0, else 0.</summary>
    public double CureFraction => Kappa < 0 ? Math.Exp(-Lambda * (1 + Kappa) / -Kappa) : 0;

    /// <summary>The hazard shape: d log h / d log t runs from gamma - 1 (t to 0) to gamma kappa - 1 (t to infinity).</summary>
    public HazardShape Shape
    {
        get
        {
            double start = Gamma - 1, end = double.IsPositiveInfinity(Kappa) ? double.PositiveInfinity : Gamma * Kappa - 1;
            return (start, end) switch
            {
                (0, 0) => HazardShape.Constant,
                ( >= 0, >= 0) => HazardShape.Increasing,
                ( <= 0, <= 0) => HazardShape.Decreasing,
                ( > 0, < 0) => HazardShape.Unimodal,
                _ => HazardShape.Bathtub,
            };
        }
    }

    /// <summary>H(t).</summary>
    public double CumulativeHazard(double t) => t <= 0 ? 0 : Lambda * H0(Z(t), Kappa);

    /// <summary>h(t) = lambda gamma (z / t) h0(z), t &gt; 0.</summary>
    public double Hazard(double t)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(t);
        var z = Z(t);
        return Lambda * Gamma * z / t * BaselineHazard(z, Kappa);
    }

    /// <summary>S(t) = exp(-H(t)).</summary>
    public double Survival(double t) => Math.Exp(-CumulativeHazard(t));

    /// <summary>log f(t) = log h(t) - H(t).</summary>
    public double LogDensity(double t) => Math.Log(Hazard(t)) - CumulativeHazard(t);

    /// <summary>f(t) = h(t) S(t).</summary>
    public double Density(double t) => Hazard(t) * Survival(t);

    /// <summary>The p-quantile of the survival time, +infinity when p &gt;= 1 - cure fraction.</summary>
    public double Quantile(double p)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "p must lie in [0, 1).");
        var inner = H0Inverse(-Math.Log(1 - p) / Lambda, Kappa);
        return double.IsPositiveInfinity(inner) ? double.PositiveInfinity : Math.Pow(inner, 1 / Gamma) / Phi;
    }

    private double Z(double t) => Math.Exp(Gamma * Math.Log(Phi * t));

    /// <summary>H0(z; k), stable near k = 0 and exact at k = 0 and k = +infinity.</summary>
    internal static double H0(double z, double k)
    {
        if (double.IsPositiveInfinity(k)) return Expm1(z);
        var l = Log1p(z / (k + 1));
        return (k + 1) * Expm1Over(k * l, k, l);
    }

    /// <summary>h0(z; k) = dH0/dz = (1 + z/(k+1))^(k-1).</summary>
    internal static double BaselineHazard(double z, double k) => double.IsPositiveInfinity(k) ? Math.Exp(z) : Math.Exp((k - 1) * Log1p(z / (k + 1)));

    /// <summary>The inverse of H0 in z: (k+1) ((1 + k y/(k+1))^(1/k) - 1); +infinity beyond the cure limit (k &lt; 0).</summary>
    internal static double H0Inverse(double y, double k)
    {
        if (double.IsPositiveInfinity(k)) return Log1p(y);
        if (k == 0) return Expm1(y);
        var u = k * y / (k + 1);
        if (u <= -1) return double.PositiveInfinity;
        var exponent = Math.Abs(u) < 1e-4 ? y / (k + 1) * (1 - u / 2 + u * u / 3) : Log1p(u) / k;
        return (k + 1) * Expm1(exponent);
    }

    /// <summary>expm1(x) / k with x = k l, continuous at k = 0 (where it is l).</summary>
    private static double Expm1Over(double x, double k, double l) =>
        Math.Abs(x) < 1e-4 ? l * (1 + x / 2 + x * x / 6 + x * x * x / 24) : Expm1(x) / k;

    internal static double Log1p(double x) => Math.Abs(x) < 1e-4 ? x * (1 - x / 2 + x * x / 3 - x * x * x / 4) : Math.Log(1 + x);

    internal static double Expm1(double x) => Math.Abs(x) < 1e-5 ? x * (1 + x / 2 + x * x / 6) : Math.Exp(x) - 1;
}
