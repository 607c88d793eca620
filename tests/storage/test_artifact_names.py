"""storage._artifact_names: readable object names that keep the artifact id findable."""

import uuid

from storage._artifact_names import artifact_id_of, object_name


def test_the_name_says_what_it_is_and_keeps_the_id():
    artifact = str(uuid.uuid4())
    name = object_name(artifact, "/tmp/x/re.large-trial-12-dev_predictions.csv")
    assert name == f"re.large-trial-12-dev_predictions-{artifact}.csv"
    assert artifact_id_of(name) == artifact
    assert object_name(artifact, "a b/c?.csv") == f"c_-{artifact}.csv"  # no separators in a key
    assert object_name(artifact, None) == artifact == artifact_id_of(artifact)  # older studies
    assert artifact_id_of("trial-12-dev_predictions.csv") is None
