"""TF Serving's model_config_list text proto -> which models, version policies and labels this server serves."""
import os

import pytest

from serving.model_config import ModelConfig, parse_model_config, read_model_config_file
from serving.model_registry import VersionPolicy


def test_policies_labels_and_tf_servings_default_policy(tmp_path):
    path = tmp_path / "models.config"
    path.write_text("""
        model_config_list {
          config { name: "a" base_path: "/models/a" model_platform: "tensorflow"
                   model_version_policy { specific { versions: 3 versions: 4 } }
                   version_labels { key: "stable" value: 3 } version_labels { key: "canary" value: 4 } }
          config { name: "b" base_path: "relative/b" model_version_policy { latest { num_versions: 2 } } }
          config { name: "c" base_path: "/models/c" model_version_policy { all {} } }
          config { name: "d" base_path: "/models/d" }
        }""")
    assert read_model_config_file(str(path)) == [
        ModelConfig("a", "/models/a", VersionPolicy(latest=None, specific=frozenset({3, 4})),
                    {"stable": 3, "canary": 4}),
        ModelConfig("b", os.path.abspath("relative/b"), VersionPolicy(latest=2)),
        ModelConfig("c", "/models/c", VersionPolicy(latest=None)),
        ModelConfig("d", "/models/d", VersionPolicy(latest=1)),
    ]


@pytest.mark.parametrize("text, message", [
    ('model_config_list { config { name: "a" } }', "needs a name and a base_path"),
    ('model_config_list { config { name: "a" base_path: "/a" model_platform: "tflite" } }', "is not supported"),
    ('model_config_list { config { name: "a" base_path: "/a" } config { name: "a" base_path: "/b" } }',
     "repeated: a"),
    ('model_config_list { config { name: "a" base_path: "/a" model_version_policy { specific {} } } }',
     "needs at least one version"),
    ("custom_model_config {}", "expected a model_config_list"),
    ("model_config_list { config { nme: 1 } }", 'no field named "nme"'),
])
def test_bad_configs_are_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "models.config"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as caught:
        read_model_config_file(str(path))
    assert str(caught.value).startswith(str(path))


def test_an_empty_list_serves_nothing():
    assert parse_model_config("model_config_list {}") == []
