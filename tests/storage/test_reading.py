"""A reader's storage must exist: a mistyped --storage is an error, never a new empty file."""

import optuna
import pytest

from common._cli import UserError
from storage._reading import open_existing


@pytest.mark.parametrize("scheme", ["sqlite:///{path}.db", "journal:///{path}.log"])
def test_a_missing_file_is_named_and_not_created(tmp_path, scheme):
    url = scheme.format(path=tmp_path / "nope")
    with pytest.raises(UserError, match=r"nope.* does not exist"):
        open_existing(url)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_study_opens(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(storage=url, study_name="s").add_trial(optuna.trial.create_trial(value=1.0))
    storage = open_existing(url)
    assert [s.study_name for s in storage.get_all_studies()] == ["s"]
