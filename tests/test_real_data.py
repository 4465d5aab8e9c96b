"""The defaults on real tables nobody here wrote (tests/realdata.py): the corpus, the experiments, the rates.

Rates, not every table, for the statistical experiments: random halves of a real table are two
samples, and a test with a 1-in-1000 false-alarm rate per column still fires now and then over
~500 columns. Leakage (exact relations), task inference and id dropping are rules, so they must hold for every table.
"""

from __future__ import annotations

import pytest

from tests import realdata

REQUIRED = {
    "contract": 0.95,
    "quiet_drift": 0.95,
    "numeric_shift": 0.95,
    "category_shift": 0.95,
    "leakage": 1.0,
    "task": 1.0,
}


@pytest.fixture(scope="module")
def tallies(tmp_path_factory):
    result = realdata.run(tmp_path_factory.mktemp("corpus"))
    realdata.LAST_RUN.update(result)  # printed at the end of the session by conftest's terminal summary
    return result


def test_the_corpus_is_real_and_large_enough():
    assert len(realdata.CORPUS) >= 30
    assert len({d.name for d in realdata.CORPUS}) == len(realdata.CORPUS)
    assert {d.fmt for d in realdata.CORPUS} == {"csv", "parquet"}


@pytest.mark.parametrize("experiment", sorted(REQUIRED))
def test_defaults_hold_on_real_data(tallies, experiment):
    tally = tallies[experiment]
    assert len(tally.outcomes) >= 25, f"{experiment} ran on too few tables to say anything"
    assert tally.rate >= REQUIRED[experiment], tally.summary()
