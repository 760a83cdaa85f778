using RolloutCluster.Rewards.Answers;

namespace RolloutCluster.Tests.Rewards;

/// <summary>Voting by equivalence class: the same value written differently is one answer.</summary>
public sealed class AnswerVotesTests
{
    [Fact]
    public void Equivalent_forms_are_one_class_and_missing_answers_none()
    {
        Assert.Equal([0, 0, 0, -1, -1, 1, 0], AnswerVotes.Classes(["1,000", "1000", "1e3", null, "", "999", "$1000"]));
        Assert.Equal([0, 0, 0, 1], AnswerVotes.Classes(["0.5", "1/2", "\\frac{1}{2}", "2"]));
    }

    [Fact]
    public void A_rounded_decimal_joins_the_value_it_rounds_from_in_either_order()
    {
        Assert.Equal([0, 0], AnswerVotes.Classes(["1/3", "0.33"]));
        Assert.Equal([0, 0], AnswerVotes.Classes(["0.33", "1/3"]));
        Assert.Equal([0, 1], AnswerVotes.Classes(["0.3", "1/3"]));   // one decimal place is not a rounding
    }

    [Fact]
    public void The_class_with_most_votes_wins_where_raw_strings_would_not()
    {
        // As raw strings "7" has two votes and each form of a half one; as values the half has three.
        string?[] answers = ["7", "0.5", "1/2", "7", "\\frac{1}{2}"];
        Assert.Equal(1, AnswerVotes.Winner(answers));
    }

    [Fact]
    public void Ties_go_to_the_class_seen_first_and_no_answer_gives_minus_one()
    {
        Assert.Equal(0, AnswerVotes.Winner(["4", "5", "5", "4"]));
        Assert.Equal(1, AnswerVotes.Winner([null, "5", "4"]));
        Assert.Equal(-1, AnswerVotes.Winner([null, "", null]));
    }

    [Fact]
    public void Weights_make_it_reward_weighted_majority()
    {
        Assert.Equal(1, AnswerVotes.Winner(["3", "4", "4"]));
        Assert.Equal(0, AnswerVotes.Winner(["3", "4", "4"], [0.9, 0.2, 0.3]));
        var error = Assert.Throws<ArgumentException>(() => AnswerVotes.Winner(["3", "4"], [1.0]));
        Assert.Contains("1 weights for 2 answers", error.Message);
    }
}
