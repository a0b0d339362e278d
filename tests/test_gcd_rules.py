import math

import numpy as np
import pytest

from lit_math.analysis import ClassTable, check_rules, is_base_product
from lit_math.analysis.gcd_rules import markdown_table


def table_of(predictions: dict[int, dict[int | str, int]], classes: int = 12) -> ClassTable:
    """Build a table from {k: {prediction: count}} with 'larger' and 'invalid' as keys too."""
    table = ClassTable.empty(classes)
    for k, row in predictions.items():
        for prediction, count in row.items():
            column = (
                {"larger": classes, "invalid": classes + 1}[prediction]
                if isinstance(prediction, str)
                else prediction - 1
            )
            table.counts[k - 1, column] = count
    return table


def test_counts_from_predictions():
    table = ClassTable.empty(12)
    table.add(
        true=np.array([1, 2, 2, 3, 3, 13]),
        predicted=np.array([1, 2, 1, 50, 0, 1]),
        valid=np.array([True, True, True, True, False, True]),
    )
    assert table.counts[0, 0] == 1 and table.counts[1, 1] == 1 and table.counts[1, 0] == 1
    assert table.counts[2, 12] == 1 and table.counts[2, 13] == 1  # larger, invalid
    assert table.counts.sum() == 5  # class 13 is outside 1..12
    assert table.label(0) == "1" and table.label(12) == "larger" and table.label(13) == "invalid"


def test_deterministic_predictions_follow_the_rules():
    # base 10: learned 1, 2, 5, 10; every other class predicts its largest learned divisor, always
    learned = [1, 2, 5, 10]
    rows = {}
    for k in range(1, 13):
        target = max(d for d in learned if k % d == 0)
        rows[k] = {target: 100}
    table = table_of(rows)
    assert table.learned() == learned
    rules = check_rules(table, base=10)
    assert rules.mean_top_share == 1.0 and rules.deterministic_classes == 12
    assert rules.grokked == []
    assert rules.r3_explained == 1.0 and rules.r3_unexplained == []


def test_non_deterministic_predictions_and_r3_failures():
    table = table_of(
        {
            1: {1: 100},
            2: {2: 95, 1: 5},  # learned
            3: {3: 92, 1: 8},  # learned, and 3 does not divide 10: grokked
            4: {2: 60, 1: 40},  # unlearned, predicts its largest learned divisor 2: R3 holds
            6: {1: 60, 6: 40},  # unlearned, largest learned divisor is 3, predicts 1: R3 fails
            7: {"invalid": 70, 1: 30},  # unlearned, predicts garbage: R3 fails
        }
    )
    assert table.learned() == [1, 2, 3]
    rules = check_rules(table, base=10)
    assert rules.grokked == [3]
    assert rules.r3_unexplained == [6, 7]
    assert rules.r3_explained == pytest.approx(1 / 3)
    assert rules.mean_top_share == pytest.approx((1 + 0.95 + 0.92 + 0.6 + 0.6 + 0.7) / 6)
    assert rules.deterministic_classes == 3
    assert math.isnan(table.accuracy[4])  # class 5 has no examples


def test_threshold_decides_learned():
    table = table_of({1: {1: 100}, 2: {2: 85, 1: 15}})
    assert table.learned(0.9) == [1] and table.learned(0.8) == [1, 2]


@pytest.mark.parametrize(
    "k,base,expected",
    [
        (1, 31, True),
        (4, 10, True),
        (6, 10, False),
        (25, 30, True),
        (7, 2023, True),
        (17, 2023, True),
        (34, 2023, False),
        (49, 2023, True),
    ],
)
def test_products_of_the_base_primes(k, base, expected):
    assert is_base_product(k, base) == expected


def test_markdown_table_has_the_papers_columns():
    text = markdown_table(table_of({1: {1: 10}, 4: {2: 9, 4: 1}}))
    lines = text.splitlines()
    assert lines[0] == "| k | most common prediction | share | accuracy | learned |"
    assert lines[2] == "| 1 | 1 | 1.00 | 1.00 | yes |"
    assert lines[3] == "| 4 | 2 | 0.90 | 0.10 |  |"
