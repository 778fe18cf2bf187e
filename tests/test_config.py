"""Config: typed, frozen, and errors that name the file and the key."""

import dataclasses

import pytest
from click.testing import CliRunner

from worker.cli import main
from worker.config import load_config, parse_config
from worker.errors import ConfigError

from .conftest import ROOT

MINIMAL = '[imap]\nusername = "support@example.com"\n'


def test_example_config_documents_every_key_and_loads():
    config = load_config(str(ROOT / "config" / "amends.example.toml"))
    text = (ROOT / "config" / "amends.example.toml").read_text()
    from worker.config import sections

    for section in sections():
        assert f"\n[{section}]\n" in text, f"[{section}] undocumented"
        for field in dataclasses.fields(getattr(config, section)):
            documented = f"\n{field.name} = " in text or f"\n[{section}.{field.name}." in text  # or as sub-tables
            assert documented, f"{section}.{field.name} undocumented"


def test_default_config_loads():
    config = load_config(str(ROOT / "config" / "demo.toml"))
    assert config.imap.host == "127.0.0.1" and config.imap.security == "none"


def test_defaults_and_frozen():
    config = parse_config(MINIMAL)
    assert config.imap.port == 993 and config.imap.batch_size == 200
    assert config.imap.folders == ("INBOX",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.imap.port = 1


def test_own_addresses_include_the_imap_user():
    assert "support@example.com" in parse_config(MINIMAL).own_addresses


@pytest.mark.parametrize(
    "text, key, words",
    [
        (MINIMAL + "port = 'abc'\n", "imap.port", "expected int"),
        (MINIMAL + "security = 'tls'\n", "imap.security", "must be one of ssl, starttls, none"),
        (MINIMAL + "colour = 'red'\n", "imap.colour", "unknown key"),
        (MINIMAL + "folders = 'INBOX'\n", "imap.folders", "expected a list"),
        (MINIMAL + "idle_seconds = 3600\n", "imap.idle_seconds", "between"),
        (MINIMAL + "[nonsense]\nx = 1\n", "[nonsense]", "unknown section"),
        ("[imap]\nport = 993\n", "imap.username", "is required"),
        (MINIMAL + "idle = 'yes'\n", "imap.idle", "expected bool"),
        (MINIMAL + "[followup]\nbusiness_hours = '17:00-09:00'\n", "followup.business_hours", "opening first"),
        (MINIMAL + "[followup]\nbusiness_hours = '9-5'\n", "followup.business_hours", "HH:MM-HH:MM"),
        (MINIMAL + "[followup]\ndigest_at = '25:00'\n", "followup.digest_at", "HH:MM"),
    ],
)
def test_bad_values_name_the_file_and_the_key(text, key, words):
    with pytest.raises(ConfigError) as info:
        parse_config(text, "conf/x.toml")
    message = str(info.value)
    assert "conf/x.toml" in message and key in message and words in message


def test_invalid_toml_names_the_file():
    with pytest.raises(ConfigError, match="bad.toml.*not valid TOML"):
        parse_config("[imap\n", "bad.toml")


def test_missing_password_variable_names_the_key(monkeypatch):
    monkeypatch.delenv("NOPE_PASSWORD", raising=False)
    config = parse_config(MINIMAL + 'password_env = "NOPE_PASSWORD"\n', "a.toml")
    with pytest.raises(ConfigError, match="imap.password_env.*NOPE_PASSWORD is not set"):
        config.imap_password()


def test_config_path_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "env.toml"
    path.write_text(MINIMAL)
    monkeypatch.setenv("AMENDS_CONFIG", str(path))
    assert load_config().path == str(path)


def test_cli_bad_config_is_one_line_and_exit_code_2(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(MINIMAL + "port = 'abc'\n")
    result = CliRunner().invoke(main, ["--config", str(path), "status"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{path}: imap.port" in result.output


def test_cli_missing_config_file(tmp_path):
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), "status"])
    assert result.exit_code == 2 and "file not found" in result.output
