"""The figures `make bench-sessions` makes of two readings of a server's CPU time."""

import pytest

from bench.cpu import StepCost, cpu_between, machine_share_busy, parse_stat, total

# A real line's shape: pid, (name), state, then 49 numbers; utime 250, stime 50, cutime 30 and
# cstime 20 ticks (fields 14-17 of proc(5)).
STAT = (
    "4242 (python -m stream) S 1 4242 4242 0 -1 4194304 9000 0 0 0 250 50 30 20 20 0 12 0 "
    "100 900000000 50000 18446744073709551615 1 1 0 0 0 0 0 16781312 16386 0 0 0 17 1 0 0 0 0 0"
)


def test_a_stat_line_gives_its_own_and_its_childrens_seconds():
    reading = parse_stat(STAT, ticks_per_second=100)
    assert reading.own_s == pytest.approx(3.0)  # (250 + 50) / 100
    assert reading.children_s == pytest.approx(0.5)  # (30 + 20) / 100
    assert reading.total_s == pytest.approx(3.5)


def test_a_name_with_spaces_and_parentheses_does_not_shift_the_fields():
    tricky = STAT.replace("(python -m stream)", "(a) b (c))")
    assert parse_stat(tricky, ticks_per_second=100) == parse_stat(STAT, ticks_per_second=100)


def test_cpu_between_two_readings():
    before = parse_stat(STAT, ticks_per_second=100)
    after = parse_stat(STAT.replace(" 250 50 30 20 ", " 400 80 30 20 "), ticks_per_second=100)
    assert cpu_between(before, after) == pytest.approx(1.8)  # 180 more ticks


def test_a_step_costs_its_cpu_over_its_count():
    cost = StepCost(cpu_s=3.0, count=12)
    assert cost.cpu_per_each_s == pytest.approx(0.25)
    assert cost.per_core_second == pytest.approx(4.0)


def test_a_step_nobody_took_has_no_figure_rather_than_zero():
    assert StepCost(cpu_s=0.4, count=0).cpu_per_each_s is None
    assert StepCost(cpu_s=0.4, count=0).per_core_second is None
    # Done, but cheaper than a clock tick: no rate can be said.
    assert StepCost(cpu_s=0.0, count=3).per_core_second is None
    assert StepCost(cpu_s=0.0, count=3).cpu_per_each_s == 0.0


def test_two_processes_together_add_seconds_and_counts():
    both = total([StepCost(2.0, 5), StepCost(3.0, 5)])
    assert both == StepCost(5.0, 10)
    assert both.cpu_per_each_s == pytest.approx(0.5)
    assert total([]).as_json() == {
        "cpu_s": 0.0, "count": 0, "cpu_per_each_s": None, "per_core_second": None,
    }  # fmt: skip


def test_how_busy_the_machine_was():
    # 3 CPU seconds over 2 s of wall time on 2 cores: three quarters busy.
    assert machine_share_busy(3.0, 2.0, 2) == pytest.approx(0.75)
    assert machine_share_busy(1.0, 0.0, 2) is None
