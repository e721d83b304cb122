"""plugin.yml against the linter's schema, the README's examples against
plugin.yml's configuration schema, and plugin.yml against the option table
the binary parses (so neither can drift)."""
import json
import os
import pathlib
import re
import subprocess

import jsonschema
import pytest
import yaml

SOURCE = pathlib.Path(os.environ.get("TEP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
LINTER_SCHEMA = SOURCE / "fixtures" / "schemas" / "plugin-yaml-schema.yml"
PLUGIN = yaml.safe_load((SOURCE / "plugin.yml").read_text())
PLUGIN_KEY = "acme/test-engine-pytest#v0.1.0"
# Options only the hooks read (finding the binary happens before it runs).
HOOK_ONLY = {"binary", "release-url"}


def test_plugin_yml_matches_the_linter_schema():
    jsonschema.validate(PLUGIN, yaml.safe_load(LINTER_SCHEMA.read_text()))
    assert PLUGIN["configuration"]["additionalProperties"] is False


def readme_examples():
    text = (SOURCE / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    configs = []
    for block in blocks:
        doc = yaml.safe_load(block)
        for step in doc.get("steps", []):
            for plugin in step.get("plugins", []):
                for key, conf in plugin.items():
                    if key.startswith("acme/test-engine-pytest#"):
                        configs.append((key, conf))
    return configs


def test_readme_has_pinned_examples():
    examples = readme_examples()
    assert len(examples) >= 2
    for key, _ in examples:
        assert re.match(r"acme/test-engine-pytest#v\d+\.\d+\.\d+$", key), key


@pytest.mark.parametrize("key,conf", readme_examples())
def test_readme_examples_validate(key, conf):
    jsonschema.validate(conf or {}, PLUGIN["configuration"])


def test_a_typo_is_rejected():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"suite_slug": "x"}, PLUGIN["configuration"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"retry-count": "two"}, PLUGIN["configuration"])


def test_plugin_options_match_what_the_binary_reads():
    binary = os.environ.get("TEP_BIN", str(SOURCE / "build" / "test-engine-pytest"))
    options = json.loads(subprocess.run([binary, "--options-json"], check=True, capture_output=True, text=True).stdout)
    parsed = {o["plugin"]: o for o in options if "plugin" in o}
    declared = set(PLUGIN["configuration"]["properties"]) - HOOK_ONLY
    assert declared == set(parsed), (declared ^ set(parsed))
    for name, opt in parsed.items():
        prop = PLUGIN["configuration"]["properties"][name]
        if opt["type"] != "string":
            assert prop["type"] == opt["type"], name
        if "default" in opt and opt["default"]:
            assert opt["default"] in prop["description"], name


def test_readme_configuration_lists_every_option():
    """The README's Configuration table names every plugin option with its default."""
    text = (SOURCE / "README.md").read_text()
    text = text[text.index("\n## Configuration"):]
    text = text[:text.index("\n## ", 1)]
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z0-9-]+)` \|.*$", text, re.M)}
    missing = set(PLUGIN["configuration"]["properties"]) - set(rows)
    assert not missing, missing
    binary = os.environ.get("TEP_BIN", str(SOURCE / "build" / "test-engine-pytest"))
    options = json.loads(subprocess.run([binary, "--options-json"], check=True, capture_output=True, text=True).stdout)
    for opt in options:
        if opt.get("plugin") and opt.get("default"):
            assert f"`{opt['default']}`" in rows[opt["plugin"]], opt["plugin"]


def test_hook_only_defaults_agree_with_the_hooks():
    """The release-url default in plugin.yml and the README is the one lib/plugin.bash uses."""
    lib = (SOURCE / "lib" / "plugin.bash").read_text()
    default = re.search(r"^TEP_DEFAULT_RELEASE_URL='([^']+)'", lib, re.M).group(1)
    assert default in PLUGIN["configuration"]["properties"]["release-url"]["description"]
    text = (SOURCE / "README.md").read_text()
    row = re.search(r"^\| `release-url` \|.*$", text, re.M).group(0)
    assert f"`{default}`" in row
