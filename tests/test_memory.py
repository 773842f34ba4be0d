import pytest

from graphassoc.memory import MemoryBudgetError, available_bytes, check_fits


def test_check_fits_refuses_more_than_available_and_names_the_fix(monkeypatch):
    monkeypatch.setenv("GRAPHASSOC_MEMORY_GB", "1")
    assert available_bytes() == 2**30
    check_fits(0.5 * 2**30, "a small block", "set x=1")  # fits: no error
    with pytest.raises(MemoryBudgetError) as err:
        check_fits(4 * 2**30, "a dense 40,000 x 40,000 float32 matrix", "set ease.method=sparse")
    msg = str(err.value)
    assert "4.0 GB" in msg and "ease.method=sparse" in msg and "\n" not in msg


def test_available_bytes_reads_the_machine(monkeypatch):
    monkeypatch.delenv("GRAPHASSOC_MEMORY_GB", raising=False)
    assert 2**20 < available_bytes()
