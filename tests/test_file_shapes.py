"""Real exports as their owners shaped them: glued together, with odd column names, without a
header row, zipped on a Mac, with a stray NUL. Each is read right, or the user is told what to do."""

import pytest

from lib.load.errors import LoadError
from lib.load.opportunities import load_opportunities
from tests import salesforce_export as sf
from tests.data.bad.make_corpus import zip_of

# What a Mac writes for a file's Finder metadata when it zips a folder (AppleDouble).
APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02" + b"\x00" * 40


def test_a_zip_made_on_a_mac_reads_its_csvs_and_ignores_their_resource_forks():
    # The resource forks come first, where they would be taken for the objects' files.
    forks = {f"__MACOSX/._{name}": APPLE_DOUBLE for name in sf.FILES}
    packed = zip_of({**forks, "._Opportunity.csv": APPLE_DOUBLE, **sf.FILES})
    loaded = load_opportunities(packed, "Export.zip")
    assert loaded.deals.equals(load_opportunities(zip_of(sf.FILES), "Export.zip").deals)
    assert [used.file for used in loaded.export_files.files_used][:2] == [
        "Opportunity.csv",
        "User.csv",
    ]
    assert loaded.export_files.not_used == ()


def test_a_zip_holding_only_resource_forks_has_no_opportunity_csv():
    with pytest.raises(LoadError) as error:
        load_opportunities(zip_of({"__MACOSX/._Opportunity.csv": APPLE_DOUBLE}), "Export.zip")
    assert str(error.value).startswith(
        "Export.zip has no Opportunity.csv (found: no CSV file Closeboard reads)."
    )
