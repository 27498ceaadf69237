"""The ``slotwise`` command line."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from slotwise import cli


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])

    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "serve", "worker", "migrate", "demo", "api-key", "invite", "manage"):
        assert command in out


def test_python_dash_m_is_the_same_command():
    result = subprocess.run(
        [sys.executable, "-m", "slotwise", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0
    assert result.stdout.startswith("usage: slotwise")


def test_serve_listens_on_loopback_by_default():
    args = cli.build_parser().parse_args(["serve"])

    command = cli.gunicorn_command(args.host, args.port, args.workers, args.threads)

    assert command[1:4] == ["-m", "gunicorn", "slotwise.wsgi:application"]
    assert command[command.index("--bind") + 1] == "127.0.0.1:8000"
    assert command[command.index("--workers") + 1] == str(cli.default_workers())
    assert command[command.index("--worker-class") + 1] == "gthread"
    assert command[command.index("--threads") + 1] == "4"


@pytest.mark.parametrize(("cores", "workers"), [(1, 3), (2, 5), (4, 9), (64, 12)])
def test_web_workers_follow_the_core_count(cores, workers):
    assert cli.default_workers(cores) == workers


def test_ipv6_addresses_are_bracketed():
    command = cli.gunicorn_command("::1", 9000, 1)

    assert command[command.index("--bind") + 1] == "[::1]:9000"


def test_at_least_one_web_worker(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["serve", "--workers", "0"])

    assert "must be 1 or more" in capsys.readouterr().err


def test_manage_hands_everything_to_django(capsys, db):
    assert cli.main(["manage", "check"]) == 0

    assert "System check identified no issues" in capsys.readouterr().out


def test_api_key_prints_a_new_key_once(capsys, db, make_org):
    from slotwise.organizations.services import organization_for_api_key

    org = make_org(slug="harbour", name="Harbour")

    assert cli.main(["api-key", "harbour", "Front desk"]) == 0

    out, err = capsys.readouterr()
    key = out.strip()
    assert out == f"{key}\n"
    assert organization_for_api_key(key) == org
    assert "Front desk" in err
    assert "shown only now" in err
    assert key not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["api-key", "nobody", "Front desk"], "there is no organization 'nobody'"),
        (["api-key", "harbour", ""], "name: This field cannot be blank."),
    ],
    ids=["unknown-organization", "blank-name"],
)
def test_api_key_refusals_go_to_stderr(capsys, db, make_org, argv, message):
    make_org(slug="harbour")

    assert cli.main(argv) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert message in err


def test_api_key_scopes_and_expiry_are_chosen_on_the_command_line(capsys, db, make_org):
    from slotwise.organizations.models import ApiKey

    make_org(slug="harbour")
    argv = ["api-key", "harbour", "Sync", "--scope", "bookings:read", "--scope", "catalog:read"]
    assert cli.main([*argv, "--expires-in-days", "0"]) == 0
    key = ApiKey.objects.get()
    assert (key.scopes, key.expires_at) == (["bookings:read", "catalog:read"], None)
    assert "never expires" in capsys.readouterr().err
    assert cli.main(["api-key", "harbour", "Bad", "--scope", "everything"]) == 1
    assert "Unknown scope 'everything'" in capsys.readouterr().err


def test_invite_prints_a_link_that_makes_the_first_owner(
    capsys, db, make_org, make_member, django_capture_on_commit_callbacks
):
    from django.core import mail
    from django.test import Client

    from slotwise.accounts.models import Membership

    org = make_org(slug="harbour")
    with django_capture_on_commit_callbacks(execute=True):
        assert cli.main(["invite", "harbour", "ada@example.com", "owner"]) == 0
    out, err = capsys.readouterr()
    link = out.strip()
    assert link.startswith("http://127.0.0.1:8000/invitations/")
    assert "ada@example.com" in err
    assert mail.outbox[0].to == ["ada@example.com"]
    client = Client()
    client.force_login(make_member(email="ada@example.com"))
    assert client.post(link.removeprefix("http://127.0.0.1:8000")).status_code == 302
    assert Membership.objects.get(organization=org).role == "owner"


def test_invite_refuses_an_unknown_role(capsys, db, make_org):
    make_org(slug="harbour")
    with pytest.raises(SystemExit):
        cli.main(["invite", "harbour", "ada@example.com", "emperor"])


# Supervising the web server and the worker


def sleeper(*, ignore_sigterm: bool = False) -> subprocess.Popen[bytes]:
    code = "import signal, sys, time\n"
    if ignore_sigterm:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    code += "sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(60)\n"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, process_group=0)
    assert child.stdout is not None
    with child.stdout:
        assert child.stdout.readline() == b"ready\n"
    return child


def test_when_one_service_dies_the_other_is_stopped():
    survivor = sleeper()
    dying = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], process_group=0)
    children = {"web server": survivor, "task worker": dying}
    try:
        assert cli.supervise(children, poll_seconds=0.05) == 3
    finally:
        cli.stop(children.values(), grace=5)

    assert survivor.returncode == -signal.SIGTERM


def test_a_service_exiting_cleanly_still_counts_as_failure():
    done = subprocess.Popen([sys.executable, "-c", "pass"], process_group=0)

    assert cli.supervise({"task worker": done}, poll_seconds=0.05) == 1


def test_stop_kills_what_ignores_sigterm():
    stubborn = sleeper(ignore_sigterm=True)

    cli.stop([stubborn], grace=0.5)

    assert stubborn.returncode == -signal.SIGKILL


class Finished:
    """Stands in for a child process that has already exited."""

    pid = 0
    returncode = 0

    def __init__(self, command: list[str]) -> None:
        self.command = command

    def poll(self) -> int:
        return 0

    def wait(self, timeout: float | None = None) -> int:
        return 0


def test_run_migrates_loads_the_demo_and_says_where_to_look(monkeypatch, capsys):
    steps: list[object] = []
    monkeypatch.setattr(cli, "_setup_django", lambda: None)
    monkeypatch.setattr(
        "django.core.management.call_command", lambda *args, **kwargs: steps.append(args)
    )
    monkeypatch.setattr(cli, "_load_demo", lambda base: f"Book a haircut: {base}/x")
    monkeypatch.setattr(cli, "_start", lambda command: steps.append(command) or Finished(command))
    monkeypatch.setattr(cli, "wait_until_listening", lambda *args: True)
    monkeypatch.setattr(cli, "supervise", lambda children: 0)

    assert cli.main(["run", "--port", "8123"]) == 0

    serve, work = steps[2], steps[3]
    assert steps[:2] == [("migrate",), ("createcachetable",)]
    assert serve[-9:] == [
        "serve", "--host", "127.0.0.1", "--port", "8123", "--workers", "2", "--threads", "4"
    ]  # fmt: skip
    assert work[-1] == "worker"
    out = capsys.readouterr().out
    assert "slotwise is running: open http://127.0.0.1:8123/" in out
    assert "Book a haircut: http://127.0.0.1:8123/x" in out
    assert "API docs: http://127.0.0.1:8123/api/v1/docs" in out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_healthz(tmp_path):
    port = free_port()
    environ = {name: value for name, value in os.environ.items() if not name.startswith("SLOTWISE")}
    environ |= {
        "SLOTWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SLOTWISE_VAR_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "slotwise", "serve", "--port", str(port), "--workers", "1"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )
    try:
        response = get_when_up("127.0.0.1", port, "/healthz", server)
    finally:
        cli.stop([server], grace=10)

    assert response.status == 200
    assert json.loads(response.body) == {"status": "ok"}
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


class Response:
    def __init__(self, raw: http.client.HTTPResponse) -> None:
        self.status = raw.status
        self.headers = dict(raw.getheaders())
        self.body = raw.read()


def get_when_up(
    host: str, port: int, path: str, server: subprocess.Popen[bytes], timeout: float = 30
) -> Response:
    deadline = time.monotonic() + timeout
    while True:
        assert server.poll() is None, "the server exited"
        connection = http.client.HTTPConnection(host, port, timeout=5)
        try:
            connection.request("GET", path)
            return Response(connection.getresponse())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        finally:
            connection.close()
