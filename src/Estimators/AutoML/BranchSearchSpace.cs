namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// A choice among named search spaces (a pipeline's trainers): a point is <c>{"Trainer": name, name: {...}}</c>, the
/// chosen branch's options nested under its name. The first feature coordinate picks the branch, the next ones are the
/// branch's own (padded to the widest branch). Grid search walks the branches' grids in turn; the cost-frugal tuner runs one
/// local search per branch and chooses among them by their estimated cost of improvement.
/// </summary>
public sealed class BranchSearchSpace : OptionBase
{
    /// <summary>The key of the branch name in a <see cref="Parameter"/>.</summary>
    public const string BranchKey = "Trainer";

    private readonly ChoiceOption _names;

    /// <summary>Creates the space; the first branch is the default.</summary>
    /// <exception cref="ArgumentException">No branch, or a name that is empty, repeated or equal to <see cref="BranchKey"/>.</exception>
    public BranchSearchSpace(IReadOnlyList<KeyValuePair<string, SearchSpace>> branches)
    {
        ArgumentNullException.ThrowIfNull(branches);
        if (branches.Count == 0) throw new ArgumentException("A branch search space needs at least one branch.", nameof(branches));
        foreach (var (name, space) in branches)
        {
            if (string.IsNullOrWhiteSpace(name) || name == BranchKey) throw new ArgumentException($"A branch cannot be named '{name}'.", nameof(branches));
            ArgumentNullException.ThrowIfNull(space, nameof(branches));
        }
        Branches = [.. branches];
        _names = new ChoiceOption([.. branches.Select(b => (object)b.Key)]);
    }

    /// <summary>The branches, in order (the first is the default).</summary>
    public IReadOnlyList<KeyValuePair<string, SearchSpace>> Branches { get; }

    /// <inheritdoc />
    public override int FeatureSpaceDimension => 1 + Branches.Max(b => b.Value.FeatureSpaceDimension);

    /// <inheritdoc />
    public override object Default => Point(Branches[0].Key, Branches[0].Value.DefaultParameter);

    /// <summary>The parameter of a branch: its name under <see cref="BranchKey"/> and its options under its name.</summary>
    public static Parameter Point(string branch, Parameter parameter) =>
        new([KeyValuePair.Create(BranchKey, (object)branch), KeyValuePair.Create(branch, (object)parameter)]);

    /// <summary>The branch name and its options of a parameter of this space.</summary>
    /// <exception cref="ArgumentException">The parameter names no branch of this space.</exception>
    public (string Branch, SearchSpace Space, Parameter Parameter) Split(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        var name = parameter.TryGetValue(BranchKey, out var n) ? n as string : null;
        var branch = Branches.FirstOrDefault(b => b.Key == name);
        if (name is null || branch.Value is null || parameter.TryGetValue(name, out var nested) is false || nested is not Parameter options)
            throw new ArgumentException($"The parameter {parameter} names no branch of this space ({string.Join(", ", Branches.Select(b => b.Key))}).", nameof(parameter));
        return (name, branch.Value, options);
    }

    /// <inheritdoc />
    public override object SampleFromFeatureSpace(ReadOnlySpan<double> point)
    {
        var name = (string)_names.SampleFromFeatureSpace(point[..1]);
        var space = Branches.First(b => b.Key == name).Value;
        return Point(name, space.Sample(point.Slice(1, space.FeatureSpaceDimension)));
    }

    /// <inheritdoc />
    public override double[] MappingToFeatureSpace(object value)
    {
        var (name, space, parameter) = Split(value as Parameter ?? throw new ArgumentException("A branch search space maps a Parameter.", nameof(value)));
        var point = Enumerable.Repeat(0.5, FeatureSpaceDimension).ToArray();
        point[0] = _names.MappingToFeatureSpace(name)[0];
        space.MappingToFeatureSpace(parameter).CopyTo(point, 1);
        return point;
    }

    /// <inheritdoc />
    public override IEnumerable<object> Grid(int steps)
    {
        var grids = Branches.Select(b => b.Value.Grid(steps).Select(p => (object)Point(b.Key, (Parameter)p)).GetEnumerator()).ToList();
        try
        {
            // Round robin, so that a grid cut short by the budget has visited every branch.
            while (grids.Count > 0)
            {
                for (var i = 0; i < grids.Count; i++)
                {
                    if (grids[i].MoveNext())
                    {
                        yield return grids[i].Current;
                    }
                    else
                    {
                        grids[i].Dispose();
                        grids.RemoveAt(i--);
                    }
                }
            }
        }
        finally
        {
            foreach (var grid in grids) grid.Dispose();
        }
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(" | ", Branches.Select(b => $"{b.Key} {b.Value}"));
}
