from pathlib import Path

import pytest

from common._cli import UserError
from search._space import Choice, FloatRange, IntRange, load_space


def write(tmp_path, text):
    path = tmp_path / "space.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_space_covers_the_parameters_teams_tune():
    space = load_space()
    for name in (
        "learning_rate",
        "warmup_ratio",
        "num_train_epochs",
        "per_device_train_batch_size",
        "focal_gamma",
        "max_len",
        "weight_decay",
    ):
        assert name in space.params
    assert isinstance(space.params["learning_rate"], FloatRange)
    assert space.params["learning_rate"].log
    assert isinstance(space.params["num_train_epochs"], IntRange)
    assert isinstance(space.params["markers"], Choice)


def test_tiny_model_gets_its_own_space():
    tiny, pretrained = load_space(model="tiny"), load_space(model="klue/roberta-large")
    assert tiny.source.endswith("tiny_space.toml")
    assert pretrained.source.endswith("default_space.toml")
    assert tiny.params["learning_rate"].low > pretrained.params["learning_rate"].low


def test_model_choices_and_fixed_values(tmp_path):
    space = load_space(
        write(tmp_path, '[model]\nchoices = ["tiny", "klue/roberta-base"]\n[seed]\nvalue = 7\n')
    )
    assert space.models() == ["tiny", "klue/roberta-base"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[learning_rat]\nlow = 1e-5\nhigh = 1e-3\n", "unknown parameter 'learning_rat'"),
        ("[learning_rate]\nlow = 1e-3\nhigh = 1e-5\n", "[learning_rate]: low 0.001 is above high"),
        ("[learning_rate]\nlow = 0.0\nhigh = 1e-3\nlog = true\n", "log range must stay above 0"),
        ("[markers]\nchoices = []\n", "[markers]: choices must be a non-empty list"),
        ("[markers]\nchoices = ['brackets']\n", "[markers]"),
        ("[warmup_ratio]\nlow = 0.0\nhigh = 1.5\n", "[warmup_ratio]"),
        ("[max_len]\nlow = 64\n", "needs low and high"),
        ("[max_len]\nlow = 64\nhigh = 128\nsize = 3\n", "unexpected key 'size'"),
        ("learning_rate = 3\n", "expected a table"),
        ("[learning_rate\n", "bad TOML"),
        ("", "no parameters"),
    ],
)
def test_bad_spaces_name_the_file_and_parameter(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as info:
        load_space(path)
    message = str(info.value)
    assert str(path) in message and expected in message and "\n" not in message


def test_missing_space_file(tmp_path):
    with pytest.raises(UserError, match="file not found"):
        load_space(tmp_path / "nope.toml")


BY_MODEL = """
[model]
choices = ["tiny", "tiny+tapt", "klue/roberta-large"]

[learning_rate]
low = 1e-4
high = 5e-3
log = true

[learning_rate.by_model]
"klue/roberta-large" = { low = 5e-6, high = 3e-5 }
"tiny+tapt" = { high = 1e-3 }

[num_train_epochs]
low = 1
high = 4
by_model = { "klue/roberta-large" = { low = 2 } }
"""


def test_by_model_ranges_override_the_bounds_and_keep_the_log_flag(tmp_path):
    space = load_space(write(tmp_path, BY_MODEL))
    assert space.models() == ["tiny", "tiny+tapt", "klue/roberta-large"]
    lr = space.params["learning_rate"]
    large = space.param_for("learning_rate", "klue/roberta-large")
    assert (large.low, large.high, large.log) == (5e-6, 3e-5, True)
    assert space.param_for("learning_rate", "tiny") is lr
    tapt = space.param_for("learning_rate", "tiny+tapt")
    assert (tapt.low, tapt.high, tapt.log) == (1e-4, 1e-3, True)  # low from the parameter
    epochs = space.param_for("num_train_epochs", "klue/roberta-large")
    assert isinstance(epochs, IntRange) and (epochs.low, epochs.high) == (2, 4)
    assert space.to_json()["learning_rate"]["by_model"]["klue/roberta-large"]["high"] == 3e-5


def test_by_model_entry_for_a_model_serves_its_tapt_variant(tmp_path):
    text = BY_MODEL.replace('"tiny+tapt" = { high = 1e-3 }\n', "").replace(
        '"klue/roberta-large"]', '"klue/roberta-large", "klue/roberta-large+tapt"]'
    )
    space = load_space(write(tmp_path, text))
    adapted = space.param_for("learning_rate", "klue/roberta-large+tapt")
    assert (adapted.low, adapted.high) == (5e-6, 3e-5)


def test_by_model_applies_to_the_model_flag_when_the_space_lists_none(tmp_path):
    text = '[learning_rate]\nlow = 1e-5\nhigh = 1e-4\nby_model = { "org/big" = { high = 2e-5 } }\n'
    space = load_space(write(tmp_path, text), model="org/big")
    assert space.param_for("learning_rate", "org/big").high == 2e-5
    with pytest.raises(UserError, match=r"'org/big' is not one of the study's models \(tiny\)"):
        load_space(write(tmp_path, text), model="tiny")


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('"org/other" = { low = 1e-5 }', "[learning_rate.by_model]: 'org/other' is not one of"),
        ('"tiny" = { low = 1e-3, high = 1e-4 }', "[learning_rate.by_model] 'tiny': low 0.001 is"),
        ('"tiny" = { low = 0.0 }', "[learning_rate.by_model] 'tiny': a log range must stay above"),
        ('"tiny" = { low = 1e-5, log = false }', "[learning_rate.by_model] 'tiny': unexpected key"),
        ('"tiny" = 1e-5', "[learning_rate.by_model] 'tiny': expected { low"),
    ],
)
def test_bad_by_model_entries_name_the_file_and_parameter(tmp_path, entry, expected):
    text = (
        '[model]\nchoices = ["tiny", "tiny+tapt"]\n[learning_rate]\nlow = 1e-4\nhigh = 5e-3\n'
        f"log = true\n[learning_rate.by_model]\n{entry}\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(UserError) as info:
        load_space(path)
    message = str(info.value)
    assert str(path) in message and expected in message and "\n" not in message


def test_by_model_ranges_are_checked_as_hyperparameters(tmp_path):
    text = '[warmup_ratio]\nlow = 0.0\nhigh = 0.3\nby_model = { "tiny" = { high = 1.5 } }\n'
    path = write(tmp_path, text)
    with pytest.raises(UserError, match=r"\[warmup_ratio\]: must be in \[0, 1\), got 1.5"):
        load_space(path, model="tiny")


@pytest.mark.parametrize("choice", ["+tapt", "tiny+tapt+tapt", " tiny+tapt"])
def test_tapt_suffix_must_follow_a_model_name(tmp_path, choice):
    path = write(tmp_path, f'[model]\nchoices = ["tiny", "{choice}"]\n')
    with pytest.raises(UserError, match=r"\[model\]: .* is not a model name"):
        load_space(path)


def test_tiny_tapt_gets_the_tiny_space():
    assert load_space(model="tiny+tapt").source.endswith("tiny_space.toml")


def test_user_files_are_read_one_way_bom_folder_and_bad_bytes(tmp_path: Path) -> None:
    """The space, a run configuration and a relation list go through common._files.read_text."""
    from objectives._hparams import read_config
    from objectives.data._labels import read_label_file

    space = tmp_path / "space.toml"
    space.write_bytes(b"\xef\xbb\xbf" + b"learning_rate = {low = 1e-5, high = 1e-3, log = true}\n")
    assert "learning_rate" in load_space(space).params  # a BOM from a Windows editor is dropped
    with pytest.raises(UserError, match=f"^--space {tmp_path}: is a directory, not a file$"):
        load_space(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{\n"learning_rate": "\xff"}')
    with pytest.raises(UserError, match=f"^--config {bad}: line 2: not UTF-8"):
        read_config(bad)
    labels = tmp_path / "labels.txt"
    labels.write_bytes(b"\xef\xbb\xbfno_relation\norg:members\n")
    assert read_label_file(labels).names == ("no_relation", "org:members")
