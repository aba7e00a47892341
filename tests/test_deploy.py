"""The deployment guide's example files work: nginx accepts the proxy configuration,
systemd accepts the units, and the guide names every setting.

nginx and systemd-analyze come from Debian (scripts/install-test-tools, run by
`make test` and .ci/run); a missing one fails these tests with what to run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from portal import config

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "docs" / "deploy"
GUIDE = REPO / "docs" / "deploy.md"
UNITS = ["portal.service", "portal-worker.service", "portal-backup.service", "portal-backup.timer"]
# Flask's and extensions' own settings that a deployment has no reason to change.
NOT_FOR_DEPLOYMENTS = {
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_SECURE",
    "PERMANENT_SESSION_LIFETIME",
    "WTF_CSRF_TIME_LIMIT",
}


def program(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    assert found, f"{name} is missing: run scripts/install-test-tools (as root)"
    return found


def with_paths(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"{old} no longer appears: update the test's replacements"
        text = text.replace(old, new)
    return text


def test_nginx_accepts_the_proxy_configuration(tmp_path):
    """`nginx -t` on docs/deploy/nginx.conf, with a self-signed certificate made here
    and the paths of a real host moved into a temporary folder."""
    nginx = program("nginx")
    tls = tmp_path / "tls"
    tls.mkdir()
    subprocess.run(
        [
            program("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=portal.example.com",
            "-keyout",
            str(tls / "privkey.pem"),
            "-out",
            str(tls / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )
    (tmp_path / "logs").mkdir()
    site = with_paths(
        (DEPLOY / "nginx.conf").read_text(),
        {
            "/etc/letsencrypt/live/portal.example.com/": f"{tls}/",
            "/var/log/nginx/": f"{tmp_path}/logs/",
            "/srv/portal/portal/static/": f"{REPO}/portal/static/",
        },
    )
    (tmp_path / "portal.conf").write_text(site)
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir()
    (tmp_path / "main.conf").write_text(
        f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/logs/error.log;
events {{}}
http {{
    include /etc/nginx/mime.types;
    access_log {tmp_path}/logs/access.log;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {tmp_path}/portal.conf;
}}
"""
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "main.conf")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr
    assert "[warn]" not in result.stderr, result.stderr


def test_nginx_takes_requests_as_large_as_the_portal_does():
    site = (DEPLOY / "nginx.conf").read_text()
    [size] = re.findall(r"^\s*client_max_body_size\s+(\d+)([kmg]?);", site, re.M)
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[size[1]]
    assert int(size[0]) * factor == config.MAX_CONTENT_LENGTH


def test_nginx_sends_to_the_address_gunicorn_binds():
    site = (DEPLOY / "nginx.conf").read_text()
    unit = (DEPLOY / "portal.service").read_text()
    [upstream] = re.findall(r"^\s*server\s+([\d.]+:\d+);", site, re.M)
    assert f"--bind {upstream}" in unit


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_accepts_the_unit(tmp_path, unit):
    """`systemd-analyze verify`, with the code's path pointing at this checkout (so the
    programs the units start exist). Warnings count as failures."""
    analyze = program("systemd-analyze")
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        (tmp_path / name).write_text(text.replace("/srv/portal/", f"{REPO}/"))
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / unit)], capture_output=True, text=True
    )
    ours = [line for line in result.stderr.splitlines() if str(tmp_path) in line or unit in line]
    assert result.returncode == 0, result.stderr
    assert ours == [], "\n".join(ours)


def test_the_guide_names_every_setting_and_is_linked_from_the_readme():
    guide = GUIDE.read_text()
    settings = {
        name
        for name in vars(config)
        if name.isupper() and not name.startswith("_") and name not in NOT_FOR_DEPLOYMENTS
    }
    missing = sorted(name for name in settings if f"PORTAL_{name}" not in guide)
    assert missing == [], f"docs/deploy.md does not mention: {missing}"
    example = (DEPLOY / "portal.env").read_text()
    for name in re.findall(r"^(PORTAL_\w+)=", example, re.M):
        assert name in guide
    assert "docs/deploy.md" in (REPO / "README.md").read_text()
    for name in [*UNITS, "nginx.conf", "portal.env"]:
        assert f"docs/deploy/{name}" in guide
