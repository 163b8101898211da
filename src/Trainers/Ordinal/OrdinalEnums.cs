namespace Microsoft.ML.PaperExtensions.Ordinal;

/// <summary>Which end class is the rare one whose probability matters most.</summary>
public enum RareClassPosition
{
    /// <summary>The last class in label order (the default).</summary>
    Last,

    /// <summary>The first class in label order; the model reverses the order internally and reports in the user's order.</summary>
    First,
}

/// <summary>
/// What prediction does when a row's cumulative probabilities cross (<c>P(Y &lt;= k) &gt; P(Y &lt;= k+1)</c>), which a
/// non-parallel model cannot rule out at new rows. No policy changes the rare-class probability.
/// </summary>
public enum CrossingRepair
{
    /// <summary>No repair: the row's class probabilities are NaN (the rare-class probability stays valid), and Fit fails if training rows cross.</summary>
    Error,

    /// <summary>Running minimum from the top: <c>F'_k = min(F_k, F'_{k+1})</c>.</summary>
    Clip,

    /// <summary>Isotonic (least-squares, pool-adjacent-violators) fit of <c>F_1..F_{K-1}</c> with <c>F_{K-1}</c> held fixed.</summary>
    Isotonic,
}
