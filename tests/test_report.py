import pytest

from recasketch.study.report import change, ranked


def test_ranked_orders_by_value_and_marks_shown_ties():
    assert ranked({"b": 0.2, "a": 0.3, "c": 0.1}) == "a (0.3000) > b (0.2000) > c (0.1000)"
    assert ranked({"x": 0.12341, "y": 0.12344, "z": 0.2}) == "z (0.2000) > y (0.1234) = x (0.1234)"
    assert ranked({"only": 1.0}, digits=1) == "only (1.0)"
    with pytest.raises(ValueError, match="Nothing to rank"):
        ranked({})


def test_change_names_the_direction_and_the_relative_size():
    assert change(0.2, 0.1) == "fell from 0.2000 to 0.1000 (-50 %)"
    assert change(0.1, 0.1001, digits=3) == "stayed at 0.100"
    assert change(0.0, 0.1) == "rose from 0.0000 to 0.1000"
