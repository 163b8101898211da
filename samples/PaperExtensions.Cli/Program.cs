using System.CommandLine;
using PaperExtensions.Cli;

var root = new RootCommand("mlnet-papers: fit and evaluate Microsoft.ML.PaperExtensions models from CSV files (RFC 4180, header row, invariant-culture numbers).")
{
    InfoCommand.Create(),
    ConcordanceCommand.Create(),
    OrdinalCommand.Create(),
    SurvivalCommand.Create(),
    SemiSupervisedCommand.Create(),
    EmbedCommand.Create(),
    FineTuneCommand.Create(),
    QuantizeCommand.Create(),
    AutoMLCommand.Create(),
};
return await CliRunner.RunAsync(root, args);
