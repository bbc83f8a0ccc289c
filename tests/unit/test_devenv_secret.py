"""Generated development secrets are safe to pass on a command line."""
import os
import stat

from tools.devenv import config


def test_secrets_are_letters_and_digits_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTROLPLANE_DEV_DIR", str(tmp_path))
    values = [config.secret("s%d" % i) for i in range(200)]
    for value in values:
        assert len(value) == 32
        # A leading "-" once made keystone-manage read the password as an option.
        assert value.isalnum(), value
    assert len(set(values)) == len(values)
    assert config.secret("s0") == values[0]
    assert stat.S_IMODE(os.stat(tmp_path / "secrets" / "s0").st_mode) == 0o600
