namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>How a semi-supervised trainer uses the unlabelled rows.</summary>
public enum SemiSupervisedMethod
{
    /// <summary>WAD: teacher pseudo-labels weighted by the top-2 anchor-similarity margin, with promotion rounds.</summary>
    Wad,
    /// <summary>Baseline: the same student trained on the labelled rows only (no teacher).</summary>
    SupervisedOnly,
    /// <summary>Baseline: the WAD pipeline with every unlabelled row weighted 1 (isolates WAD's weights).</summary>
    PseudoLabel,
    /// <summary>
    /// Baseline: scikit-learn's <c>SelfTrainingClassifier</c> semantics. Fit on the labelled rows, add the unlabelled rows
    /// whose top class probability exceeds a threshold with that class, refit, until nothing is added or the iterations run out.
    /// </summary>
    SelfTraining,
}

/// <summary>How the contrastive teacher corrupts a row to make its second view.</summary>
public enum ContrastiveAugmentation
{
    /// <summary>SCARF: a fixed share of the features, chosen at random, take the value of another random row.</summary>
    Scarf,
    /// <summary>VIME: each feature is masked with a probability and then takes the value of another random row.</summary>
    Vime,
}

/// <summary>How WAD's teacher scores the unlabelled rows against the known classes.</summary>
public enum TeacherRule
{
    /// <summary>WAD: the cosine similarity to the class's anchors in the contrastive embedding (see <see cref="AnchorScoring"/>).</summary>
    Anchor,
    /// <summary>
    /// Not part of WAD: the anchors' classes spread along a kNN graph (label spreading, Zhou et al. 2004) built in the teacher's
    /// embedding (or in the features, see <see cref="PropagationSpace"/>) from class-balanced seeds (each class's anchors share
    /// one unit of mass, so a class promoted more often in WAD's rounds does not swamp the others); a row's class scores are
    /// its spread distribution.
    /// </summary>
    Propagation,
}

/// <summary>What WAD distils the teacher's pseudo-labels into.</summary>
public enum StudentRule
{
    /// <summary>WAD: a network trained on the weighted pseudo-labels (the MLP, or <c>StudentTrainer</c> when set).</summary>
    Network,
    /// <summary>
    /// Not part of WAD: a k-nearest-neighbour rule in the propagation teacher's space (<see cref="PropagationSpace"/>, k =
    /// <c>StudentNeighbors</c>). A row's class probabilities are the normalised sum of its k nearest training rows' targets
    /// among the rows with one: labelled and promoted rows count 1 for their class, pool rows their weight for their
    /// pseudo-label. It predicts the way the graph labelled the pool, as label spreading predicts new rows, and the model keeps
    /// those rows.
    /// </summary>
    Neighbors,
}

/// <summary>The space the propagation teacher builds its kNN graph in.</summary>
public enum PropagationSpace
{
    /// <summary>The teacher's normalised contrastive embedding.</summary>
    Embedding,
    /// <summary>The standardised features (the contrastive teacher is still trained: it gives <c>KnownClassSimilarity</c> and <c>KnownClassConfidence</c>).</summary>
    Features,
    /// <summary>
    /// The features as given, unstandardised: for features that share one unit (pixels, counts of the same thing), where
    /// standardising inflates rarely-used features; what scikit-learn's LabelSpreading does unless the user scales.
    /// </summary>
    RawFeatures,
}

/// <summary>How an unlabelled row is scored against a class.</summary>
public enum AnchorScoring
{
    /// <summary>WAD: the highest cosine similarity to the class's anchors.</summary>
    NearestAnchor,
    /// <summary>Not part of WAD: the cosine similarity to the normalised mean embedding of the class's anchors.</summary>
    Prototype,
}

/// <summary>
/// Makes an ML.NET multiclass trainer that WAD trains as its student. The trainer must read the three columns it is given:
/// a key label, a known-size Single feature vector (the standardised features) and a Single example weight.
/// </summary>
/// <example><c>(label, features, weight) =&gt; mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy(label, features, weight)</c></example>
public delegate IEstimator<ITransformer> StudentTrainerFactory(string labelColumnName, string featureColumnName, string exampleWeightColumnName);
