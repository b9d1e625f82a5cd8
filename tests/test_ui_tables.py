"""Tables as every page shows them (ui/tables.py), on scripts of their own."""

from streamlit.testing.v1 import AppTest


def table_of(rows: int) -> AppTest:
    def script(rows: int) -> None:
        import pandas as pd

        from ui.tables import long_table

        long_table(pd.DataFrame({"Deal": range(rows)}), "deals", "the CSV holds every one")

    return AppTest.from_function(script, args=(rows,), default_timeout=30).run()


def test_a_long_table_sends_its_first_thousand_rows_and_says_how_many_there_are():
    at = table_of(1_005)
    assert not at.exception
    assert len(at.dataframe[0].value) == 1_000
    assert list(at.dataframe[0].value["Deal"][-2:]) == [998, 999]
    assert at.caption[0].value == "The first 1,000 of 1,005 deals; the CSV holds every one."


def test_a_short_table_is_shown_whole_without_a_caption():
    at = table_of(1_000)
    assert len(at.dataframe[0].value) == 1_000
    assert not at.caption
