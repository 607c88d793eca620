import pytest

from objectives.errors import UserError
from search.space import Choice, FloatRange, IntRange, load_space


def write(tmp_path, text):
    path = tmp_path / "space.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_space_covers_the_issue_parameters():
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
