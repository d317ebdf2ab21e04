"""The importer's own Arrow arrays equal what ``pyarrow.array`` builds from the same values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from beatbook.ingest import arrow_arrays


@settings(deadline=None)  # the first pyarrow.array call imports pandas
@given(
    hnp.arrays(
        st.sampled_from([np.int64, np.int32, np.bool_]),  # what the importer adds
        st.integers(min_value=0, max_value=70),
    )
)
def test_numbers_equal_pyarrow(values: np.ndarray) -> None:
    built = arrow_arrays.numbers(values)
    assert built.equals(pa.array(values))
    built.validate(full=True)


@settings(deadline=None)
@given(st.lists(st.text(), max_size=30))
def test_strings_equal_pyarrow(values: list[str]) -> None:
    built = arrow_arrays.strings(values)
    assert built.equals(pa.array(values, pa.string()))
    built.validate(full=True)


def test_a_strided_view_is_copied_not_misread() -> None:
    """Every other element of an array is not contiguous memory: its values must still be right."""
    values = np.arange(10, dtype=np.int64)[::2]
    assert arrow_arrays.numbers(values).to_pylist() == [0, 2, 4, 6, 8]
