import multiprocessing as mp

import numpy as np
import pytest

from objectives.encoding._features import FeatureCache, cache_key, encode, special_layout
from objectives.encoding._markers import special_tokens
from objectives.models._loading import load_tokenizer
from objectives.models._tiny import ensure_tiny_model
from tests.toy import toy_data


def _tokenizer(cache_root):
    data = toy_data()
    path = ensure_tiny_model(data.sentences(), cache_root)
    return data, load_tokenizer(str(path), special_tokens("typed_entity"))


def test_entity_indices_point_at_the_start_markers(tmp_path):
    data, tokenizer = _tokenizer(tmp_path)
    features = encode(data.train, tokenizer, "typed_entity", 64, data.labels)
    assert len(features) == len(data.train)
    for i in range(5):
        ids = features.input_ids(i)
        assert tokenizer.convert_ids_to_tokens(int(ids[features.subject_index[i]])) == "<S:PER>"
        assert tokenizer.convert_ids_to_tokens(int(ids[features.object_index[i]])) == "<O:ORG>"
    assert features.labels[0] == data.labels.id(data.train.examples[0].label)
    assert features.truncated_entities == 0


def test_truncation_cut_entities_are_counted_and_point_at_cls(tmp_path):
    data, tokenizer = _tokenizer(tmp_path)
    features = encode(data.train, tokenizer, "typed_entity", 5, data.labels)
    assert features.lengths.max() <= 5
    assert features.truncated_entities > 0
    cut = np.flatnonzero(features.object_index == 0)
    assert len(cut) > 0


def test_disk_cache_roundtrip_and_key(tmp_path):
    data, tokenizer = _tokenizer(tmp_path)
    first = FeatureCache(tmp_path / "f")
    built = first.get(data.train, tokenizer, "entity", 32, data.labels)
    second = FeatureCache(tmp_path / "f")
    loaded = second.get(data.train, tokenizer, "entity", 32, data.labels)
    assert second.hits == {"memory": 0, "disk": 1, "built": 0}
    np.testing.assert_array_equal(built.ids, loaded.ids)
    np.testing.assert_array_equal(built.object_index, loaded.object_index)
    other = cache_key(data.train, tokenizer, "entity", 64, data.labels)
    assert other != cache_key(data.train, tokenizer, "entity", 32, data.labels)
    assert cache_key(data.dev, tokenizer, "entity", 32, data.labels) != cache_key(
        data.train, tokenizer, "entity", 32, data.labels
    )


def test_damaged_entry_is_rebuilt(tmp_path):
    data, tokenizer = _tokenizer(tmp_path)
    cache = FeatureCache(tmp_path / "f")
    cache.get(data.train, tokenizer, "entity", 32, data.labels)
    (entry,) = (tmp_path / "f").glob("*.npz")
    entry.write_bytes(b"not a zip file")
    again = FeatureCache(tmp_path / "f")
    again.get(data.train, tokenizer, "entity", 32, data.labels)
    assert again.hits["built"] == 1


def _build(args):
    cache_root, features_root = args
    data, tokenizer = _tokenizer(cache_root)
    features = FeatureCache(features_root).get(data.train, tokenizer, "entity", 32, data.labels)
    return features.ids.tobytes()


def test_two_processes_building_the_same_entry_both_get_a_whole_file(tmp_path):
    _tokenizer(tmp_path)  # build the tiny model once, so both processes race on features only
    args = [(tmp_path, tmp_path / "f")] * 4
    with mp.get_context("spawn").Pool(2) as pool:
        results = pool.map(_build, args)
    assert len(set(results)) == 1
    entries = list((tmp_path / "f").glob("*.npz"))
    assert len(entries) == 1 and not list((tmp_path / "f").glob(".*"))
    reread = FeatureCache(tmp_path / "f")
    data, tokenizer = _tokenizer(tmp_path)
    assert reread.get(data.train, tokenizer, "entity", 32, data.labels).ids.tobytes() == results[0]


@pytest.mark.parametrize("scheme", ["typed_entity", "entity", "none"])
def test_every_max_len_cut_from_one_tokenization_equals_the_tokenizers_truncation(tmp_path, scheme):
    data, tokenizer = _tokenizer(tmp_path)
    cache = FeatureCache(None)
    longest = int(encode(data.train, tokenizer, scheme, 512, data.labels).lengths.max())
    for max_len in [3, 5, 8, 12, 16, longest - 1, longest, longest + 10]:
        direct = encode(data.train, tokenizer, scheme, max_len, data.labels)
        cut = cache.get(data.train, tokenizer, scheme, max_len, data.labels)
        np.testing.assert_array_equal(cut.ids, direct.ids)
        np.testing.assert_array_equal(cut.starts, direct.starts)
        np.testing.assert_array_equal(cut.subject_index, direct.subject_index)
        np.testing.assert_array_equal(cut.object_index, direct.object_index)
        np.testing.assert_array_equal(cut.labels, direct.labels)
        assert cut.truncated_entities == direct.truncated_entities
    assert cache.hits["built"] == 1  # one tokenization for all the lengths


def test_a_tokenizer_that_truncates_from_the_left_is_tokenized_per_max_len(tmp_path):
    data, tokenizer = _tokenizer(tmp_path)
    assert special_layout(tokenizer) == (1, 1)  # [CLS] text [SEP]
    tokenizer.truncation_side = "left"
    assert special_layout(tokenizer) is None
    cache = FeatureCache(None)
    for max_len in [8, 16]:
        got = cache.get(data.train, tokenizer, "entity", max_len, data.labels)
        direct = encode(data.train, tokenizer, "entity", max_len, data.labels)
        np.testing.assert_array_equal(got.ids, direct.ids)
    assert cache.hits["built"] == 2


@pytest.mark.parametrize("template", ["[CLS] $A", "$A [SEP] [SEP]", "[CLS] [CLS] $A [SEP]"])
def test_other_special_token_layouts_are_cut_the_same_way(tmp_path, template):
    from tokenizers.processors import TemplateProcessing

    data, tokenizer = _tokenizer(tmp_path)
    tokens = [(t, tokenizer.convert_tokens_to_ids(t)) for t in ("[CLS]", "[SEP]")]
    tokenizer.backend_tokenizer.post_processor = TemplateProcessing(
        single=template, special_tokens=tokens
    )
    before = template.split("$A")[0].split()
    after = template.split("$A")[1].split()
    assert special_layout(tokenizer) == (len(before), len(after))
    cache = FeatureCache(None)
    for max_len in [4, 9, 20]:
        cut = cache.get(data.train, tokenizer, "typed_entity", max_len, data.labels)
        direct = encode(data.train, tokenizer, "typed_entity", max_len, data.labels)
        np.testing.assert_array_equal(cut.ids, direct.ids)
        np.testing.assert_array_equal(cut.subject_index, direct.subject_index)
        np.testing.assert_array_equal(cut.object_index, direct.object_index)
        assert cut.truncated_entities == direct.truncated_entities
