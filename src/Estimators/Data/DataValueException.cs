namespace Microsoft.ML.PaperExtensions.Data;

/// <summary>
/// A column holds values an estimator cannot use (NaN, infinity, a missing key or label, a negative weight). The message
/// says which column, how many rows and the first; <see cref="Column"/> and <see cref="FirstRow"/> let a caller that knows
/// where the rows came from (a file) point at the line.
/// </summary>
public sealed class DataValueException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public DataValueException(string message, string parameterName, string column, long firstRow, long count) : base(message, parameterName)
    {
        Column = column;
        FirstRow = firstRow;
        Count = count;
    }

    /// <summary>The column that holds the values.</summary>
    public string Column { get; }

    /// <summary>The 0-based row of the data view at which the first one was found.</summary>
    public long FirstRow { get; }

    /// <summary>How many rows hold such values.</summary>
    public long Count { get; }
}
