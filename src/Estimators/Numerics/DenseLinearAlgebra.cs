namespace Microsoft.ML.PaperExtensions.Numerics;

/// <summary>Small dense symmetric positive definite systems (a few hundred unknowns at most), row-major.</summary>
internal static class DenseLinearAlgebra
{
    /// <summary>Cholesky factor L (lower, in place) of a symmetric positive definite A; false when A is not.</summary>
    public static bool Cholesky(double[] a, int n)
    {
        for (var j = 0; j < n; j++)
        {
            var d = a[j * n + j];
            for (var k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
            if (!(d > 1e-300)) return false;
            d = Math.Sqrt(d);
            a[j * n + j] = d;
            for (var i = j + 1; i < n; i++)
            {
                var v = a[i * n + j];
                for (var k = 0; k < j; k++) v -= a[i * n + k] * a[j * n + k];
                a[i * n + j] = v / d;
            }
        }
        return true;
    }

    /// <summary>Solves L L' x = b in place (b becomes x), given the factor from <see cref="Cholesky"/>.</summary>
    public static void CholeskySolve(double[] factor, double[] b, int n)
    {
        for (var i = 0; i < n; i++)
        {
            var v = b[i];
            for (var k = 0; k < i; k++) v -= factor[i * n + k] * b[k];
            b[i] = v / factor[i * n + i];
        }
        for (var i = n - 1; i >= 0; i--)
        {
            var v = b[i];
            for (var k = i + 1; k < n; k++) v -= factor[k * n + i] * b[k];
            b[i] = v / factor[i * n + i];
        }
    }

    /// <summary>Solves A x = b for a symmetric positive definite A (A is overwritten, b becomes x); false when A is not.</summary>
    public static bool TrySolve(double[] a, double[] b, int n)
    {
        if (!Cholesky(a, n)) return false;
        CholeskySolve(a, b, n);
        return true;
    }

    /// <summary>The inverse of a symmetric positive definite A, or null when A is not.</summary>
    public static double[]? Inverse(double[] a, int n)
    {
        var factor = (double[])a.Clone();
        if (!Cholesky(factor, n)) return null;
        var inverse = new double[n * n];
        var column = new double[n];
        for (var j = 0; j < n; j++)
        {
            Array.Clear(column);
            column[j] = 1;
            CholeskySolve(factor, column, n);
            for (var i = 0; i < n; i++) inverse[i * n + j] = column[i];
        }
        return inverse;
    }
}
