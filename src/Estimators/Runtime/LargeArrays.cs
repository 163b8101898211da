using System.Runtime;

namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>
/// Returning the memory of large arrays a fit has just dropped. The garbage collector would let a second data-sized array
/// be allocated before collecting the first (large objects are collected only in full collections), so a fit that
/// replaces one data-sized array by another collects in between.
/// </summary>
internal static class LargeArrays
{
    /// <summary>Values (doubles) above which a dropped array is worth a full collection: 64 MB.</summary>
    public const long Threshold = 8_000_000;

    /// <summary>A full, compacting collection that also decommits the freed memory, when <paramref name="values"/> exceeds <see cref="Threshold"/>.</summary>
    public static void Release(long values)
    {
        if (values <= Threshold) return;
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }
}
