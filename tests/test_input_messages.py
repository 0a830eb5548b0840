"""Issue 14 items 6, 8, 9: malformed URLs are input errors, a bad --header never echoes its value, and every
echoed value is capped (one helper, `app.errors.shown`; the CLI's last guard `one_line`)."""

from __future__ import annotations

import pytest

from app.errors import LINE_MAX, InputError, one_line, shown
from app.probing.urls import check_url

BAD_URLS = ["http://[::1/predict", "http://h:99999/p", "http://h:abc/p", "http://h:0/p", "http://bad host/",
            "http:///p", "ftp://x/", "http://" + "a" * 500 + "/", "http://a..b/", "http://h\x00/"]


def _cli(capsys, args):
    from app.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("command", ["baseline", "analyze"])
def test_malformed_url_is_exit_2_one_short_line(url, command, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFI_HOME", str(tmp_path))
    code, err = _cli(capsys, [command, url, "--samples", "2"])
    assert code == 2 and len(err) == 1 and len(err[0]) <= LINE_MAX, err
    assert "internal error" not in err[0]


def test_check_url_accepts_good_urls():
    for u in ("http://127.0.0.1:9000/predict", "https://[::1]:8443/v1", "http://model.example.org/p?x=1"):
        check_url(u)


def test_bad_header_never_echoes_the_secret(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFI_HOME", str(tmp_path))
    code, err = _cli(capsys, ["baseline", "http://127.0.0.1:9/p", "--header", "Authorization SECRET-TOKEN-123"])
    assert code == 2 and len(err) == 1
    assert "SECRET" not in err[0] and "Authorization" not in err[0]


def test_echoed_values_are_capped():
    big = "v" * 1_000_000
    assert len(shown(big)) == 80 + 3
    with pytest.raises(InputError) as exc:
        check_url("http://" + big)
    assert len(str(exc.value)) < 200
    assert len(one_line("x" * 10_000)) == LINE_MAX and one_line("a\nb") == "a"


def test_cli_caps_any_error_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFI_HOME", str(tmp_path))
    code, err = _cli(capsys, ["approve", "r" * 5000, "--by", "ana", "--reason", "x"])
    assert code == 2 and len(err) == 1 and len(err[0]) <= LINE_MAX
