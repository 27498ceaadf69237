"""The ``slotwise`` command: serve the web app, run the task worker, or both.

    slotwise run              migrate, load the demo, then serve and work until Ctrl-C
    slotwise serve            the web app under gunicorn, on http://127.0.0.1:8000
    slotwise worker           the background task worker
    slotwise migrate          create or update the database tables, the cache's too
    slotwise demo             load the demo data and say where to look
    slotwise api-key ORG NAME issue an API key for the staff API of organization ORG
    slotwise invite ORG EMAIL ROLE  invite someone to organization ORG (the first owner, say)
    slotwise doctor           check this deployment, a line per check; exit 1 if one fails
    slotwise backup [PATH]    back the database up to one file (var/backups/ by default)
    slotwise restore PATH     restore a backup into the configured, empty database
    slotwise manage ARGS...   any Django management command

Every command uses ``slotwise.settings`` unless ``DJANGO_SETTINGS_MODULE``
says otherwise, and so reads its configuration from ``SLOTWISE_*`` variables.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType

from django.core.exceptions import ImproperlyConfigured

DOCS_PATH = "/api/v1/docs"
STOP_GRACE_SECONDS = 10.0
MAX_DEFAULT_WORKERS = 12
WEB_THREADS = 4
# A worker told to stop (SIGTERM, or replaced by a reload) finishes its requests
# within this many seconds before it is killed.
GRACEFUL_SECONDS = 30

Child = subprocess.Popen[bytes]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``slotwise`` command and return its exit status."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slotwise.settings")
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["manage"]:
            # Everything after `manage` is Django's, --help included.
            return manage(argv[1:])
        args = build_parser().parse_args(argv)
        command: Callable[[argparse.Namespace], int] = args.command
        return command(args)
    except ImproperlyConfigured as error:
        print(f"slotwise: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slotwise", description="slotwise, the booking engine and service."
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    run_parser = commands.add_parser(
        "run", help="migrate, load the demo, then serve and run the worker until Ctrl-C"
    )
    _add_server_options(run_parser, workers=2)
    run_parser.set_defaults(command=run)

    serve_parser = commands.add_parser("serve", help="serve the web app with gunicorn")
    _add_server_options(serve_parser, workers=default_workers())
    serve_parser.set_defaults(command=serve)

    commands.add_parser("worker", help="run the background task worker").set_defaults(
        command=worker
    )
    commands.add_parser("migrate", help="create or update the database tables").set_defaults(
        command=migrate
    )
    commands.add_parser("demo", help="load the demo data").set_defaults(command=demo)
    invite_parser = commands.add_parser(
        "invite",
        help="invite someone to an organization, e.g. its first owner; prints the link",
        description="Invite EMAIL to join organization ORG_SLUG as ROLE. The link is printed "
        "and emailed; it is valid for 7 days, for that verified address only.",
    )
    invite_parser.add_argument("org_slug", metavar="ORG_SLUG", help="the organization's slug")
    invite_parser.add_argument("email", metavar="EMAIL", help="whom to invite")
    invite_parser.add_argument(
        "role",
        metavar="ROLE",
        choices=["owner", "admin", "staff", "viewer"],
        help="owner, admin, staff or viewer",
    )
    invite_parser.add_argument(
        "--site",
        default="http://127.0.0.1:8000",
        help="the address slotwise is reached at, for the link (http://127.0.0.1:8000)",
    )
    invite_parser.set_defaults(command=invite)
    key_parser = commands.add_parser(
        "api-key",
        help="issue an API key for an organization's staff API, shown once",
        description="Issue an API key for the staff API; it is printed once and never stored.",
    )
    key_parser.add_argument("org_slug", metavar="ORG_SLUG", help="the organization's slug")
    key_parser.add_argument("name", metavar="NAME", help="who or what will hold the key")
    key_parser.add_argument(
        "--scope",
        action="append",
        dest="scopes",
        metavar="SCOPE",
        help="what the key may do: read (the default), write, catalog:read, catalog:write, "
        "bookings:read or bookings:write; repeat for several",
    )
    key_parser.add_argument(
        "--expires-in-days",
        type=int,
        default=365,
        metavar="DAYS",
        help="days until the key expires (365); 0 for never",
    )
    key_parser.set_defaults(command=api_key)
    doctor_parser = commands.add_parser(
        "doctor",
        help="check this deployment and print a line per check; exit 1 if any fails",
        description="Check the configuration (check --deploy), the database and migrations, "
        "the worker's heartbeat, the outbox, calendar sync, webhooks, the time zone data, and "
        "the public address's security headers and TLS certificate.",
    )
    doctor_parser.add_argument(
        "--url", help="the public address to check (default: SLOTWISE_SITE_URL)"
    )
    doctor_parser.add_argument(
        "--ca-file", help="trust this CA bundle for the TLS check (a private CA)"
    )
    doctor_parser.set_defaults(command=doctor)
    backup_parser = commands.add_parser(
        "backup",
        help="back the database up to one file",
        description="Back up the whole database: pg_dump for PostgreSQL, the online backup "
        "API for SQLite. The app can keep running.",
    )
    backup_parser.add_argument(
        "path",
        metavar="PATH",
        nargs="?",
        help="the file to write (default: var/backups/slotwise-<UTC time>.dump or .sqlite3)",
    )
    backup_parser.set_defaults(command=backup)
    restore_parser = commands.add_parser(
        "restore",
        help="restore a backup into the configured database, which must be empty",
        description="Restore a file written by `slotwise backup` into the database "
        "SLOTWISE_DATABASE_URL names. It must have no tables: create a new database first. "
        "Then run `slotwise migrate` if this slotwise is newer than the backup.",
    )
    restore_parser.add_argument("path", metavar="PATH", help="the backup file")
    restore_parser.set_defaults(command=restore)
    # Only listed here for --help; main() hands `manage` to Django before parsing.
    commands.add_parser("manage", help="run a Django management command", add_help=False)
    return parser


def _add_server_options(parser: argparse.ArgumentParser, *, workers: int) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--workers",
        type=_positive,
        default=workers,
        help=f"web worker processes ({workers}: twice the cores plus one, at most "
        f"{MAX_DEFAULT_WORKERS}, for serve)",
        metavar="N",
    )
    parser.add_argument(
        "--threads",
        type=_positive,
        default=WEB_THREADS,
        help=f"threads per web worker ({WEB_THREADS})",
        metavar="N",
    )


def default_workers(cores: int | None = None) -> int:
    """Gunicorn's rule of thumb, twice the cores plus one: while one request waits for
    the database another runs. Capped, since each holds database connections."""
    return min(2 * (cores or os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS)


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def serve(args: argparse.Namespace) -> int:
    """Replace this process with gunicorn, once the settings are known to load."""
    # Before Django: prometheus_client reads it when first imported.
    _metrics_directory(fresh=True)
    _setup_django()
    command = gunicorn_command(args.host, args.port, args.workers, args.threads)
    os.execv(command[0], command)  # noqa: S606 (our own interpreter, fixed arguments)


def gunicorn_command(host: str, port: int, workers: int, threads: int = WEB_THREADS) -> list[str]:
    """gunicorn with threaded workers. SIGTERM stops it gracefully (requests in
    progress finish within :data:`GRACEFUL_SECONDS`); SIGHUP reloads the code and
    configuration with no request lost (new workers start before old ones stop)."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "slotwise.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--graceful-timeout",
        str(GRACEFUL_SECONDS),
        # Recycled now and then, so that a slow leak never grows without bound.
        "--max-requests",
        "5000",
        "--max-requests-jitter",
        "500",
        "--access-logfile",
        "-",
        # The request id (slotwise.operations.logs) joins this line to our records.
        "--access-logformat",
        '%(h)s "%(r)s" %(s)s %(B)s %(M)sms id=%({x-request-id}o)s',
        # Its default path is shared by every gunicorn of this user; we never use it.
        "--no-control-socket",
        "--config",
        "python:slotwise.operations.gunicorn_hooks",
    ]


def worker(args: argparse.Namespace) -> int:
    _metrics_directory(fresh=False)
    _setup_django()
    _start_outbox_sweep()
    # No autoreloader: it would outlive a SIGTERM sent only to its parent.
    return manage(["db_worker", "--no-reload"])


def _metrics_directory(*, fresh: bool) -> None:
    """Where the processes of this machine keep their Prometheus counters, so that
    ``/metrics`` sums them (``PROMETHEUS_MULTIPROC_DIR``, unless already set):
    ``var/metrics``. The web server starts it afresh; counters then restart from
    zero, which Prometheus understands as a restart."""
    from pathlib import Path

    from django.conf import settings

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    directory = Path(settings.SLOTWISE_VAR_DIR) / "metrics"
    directory.mkdir(parents=True, exist_ok=True)
    if fresh:
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def _start_outbox_sweep() -> None:
    """Every minute, say this worker is alive (for /readyz), ask for the outbox to
    be delivered, for payments due to be carried out (refunds, fees, cancelled
    checkouts), for external calendars due to be read and written and for
    waitlist offers to be made and ended:
    whatever a crash or a lost task left behind is done within a minute of the
    worker running again."""
    import threading

    from django.db import connection
    from django.utils import timezone

    from slotwise.calendars.tasks import sweep as calendars_due
    from slotwise.notifications.tasks import SWEEP, deliver
    from slotwise.operations.health import beat, process_name
    from slotwise.payments.tasks import sweep as payments_due
    from slotwise.waitlist.tasks import sweep as waitlist_due

    process = process_name()

    def sweep() -> None:
        while True:
            try:
                # Seen by /readyz and `slotwise doctor`: this worker is alive.
                beat(process, timezone.now())
                deliver.enqueue()
                payments_due.enqueue()
                calendars_due.enqueue()
                waitlist_due.enqueue()
            except Exception as error:  # the sweep must outlive a database hiccup
                print(f"slotwise worker: could not ask for delivery: {error}", file=sys.stderr)
            finally:
                connection.close()
            time.sleep(SWEEP.total_seconds())

    threading.Thread(target=sweep, name="outbox-sweep", daemon=True).start()


def migrate(args: argparse.Namespace) -> int:
    # The migrations create the cache table; createcachetable makes sure of it.
    manage(["migrate", "--no-input"])
    return manage(["createcachetable"])


def demo(args: argparse.Namespace) -> int:
    print(_load_demo())
    return 0


def invite(args: argparse.Namespace) -> int:
    """Print the invitation link on stdout, alone; the rest on stderr."""
    _setup_django()
    from django.core.exceptions import ValidationError
    from django.urls import reverse
    from django.utils import timezone

    from slotwise.accounts import services
    from slotwise.accounts.access import Caller
    from slotwise.accounts.permissions import ROLE_PERMISSIONS, Role
    from slotwise.organizations.models import Organization

    organization = Organization.objects.filter(slug=args.org_slug).first()
    if organization is None:
        print(f"slotwise: there is no organization {args.org_slug!r}", file=sys.stderr)
        return 1
    # The operator acts with an owner's rights, in the audit log as "system".
    operator = Caller(organization, ROLE_PERMISSIONS[Role.OWNER], role=Role.OWNER)
    try:
        invitation, token = services.invite(
            operator, args.email, Role(args.role), now=timezone.now(), site=args.site
        )
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            print(f"slotwise: {field}: {' '.join(messages)}", file=sys.stderr)
        return 1
    print(args.site.rstrip("/") + reverse("accept_invitation", args=[token]))
    print(
        f"Invitation for {invitation.email} to join {organization.name} as {invitation.role}, "
        f"valid until {invitation.expires_at:%Y-%m-%d %H:%M} UTC. They sign up or sign in "
        "with that address, then open the link.",
        file=sys.stderr,
    )
    return 0


def api_key(args: argparse.Namespace) -> int:
    """Print a new key on stdout, alone, so that it can be piped; the rest on stderr."""
    _setup_django()
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from slotwise.organizations.models import Organization
    from slotwise.organizations.services import issue_api_key

    organization = Organization.objects.filter(slug=args.org_slug).first()
    if organization is None:
        print(f"slotwise: there is no organization {args.org_slug!r}", file=sys.stderr)
        return 1
    try:
        issued, key = issue_api_key(
            organization,
            args.name,
            scopes=args.scopes or ["read"],
            expires_at=(
                None
                if args.expires_in_days == 0
                else timezone.now() + timedelta(days=args.expires_in_days)
            ),
        )
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            print(f"slotwise: {field}: {' '.join(messages)}", file=sys.stderr)
        return 1
    print(key)
    expiry = (
        "never expires" if issued.expires_at is None else f"expires {issued.expires_at:%Y-%m-%d}"
    )
    print(
        f"API key {issued.prefix} ({issued.name}) for {organization.name}, scopes "
        f"{', '.join(issued.scopes)}, {expiry}. It is shown only now: store it somewhere "
        "safe. Send it as 'Authorization: Bearer <key>'.",
        file=sys.stderr,
    )
    return 0


def doctor(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings
    from django.utils import timezone

    from slotwise.operations.doctor import run_checks

    url = args.url or settings.SLOTWISE_SITE_URL
    results = run_checks(timezone.now(), url, ca_file=args.ca_file)
    for result in results:
        print(result.line())
    failed = [r for r in results if r.status == "fail"]
    print(f"{len(failed)} of {len(results)} checks failed." if failed else "All checks passed.")
    return 1 if failed else 0


def backup(args: argparse.Namespace) -> int:
    """Print where the backup went and what it holds."""
    _setup_django()
    from pathlib import Path

    from django.conf import settings
    from django.utils import timezone

    from slotwise.operations.backup import BackupError, default_path
    from slotwise.operations.backup import backup as back_up

    database = settings.DATABASES["default"]
    path = (
        Path(args.path)
        if args.path
        else default_path(database, Path(settings.SLOTWISE_VAR_DIR) / "backups", timezone.now())
    )
    try:
        summary = back_up(database, path)
    except BackupError as error:
        print(f"slotwise: backup failed: {error}", file=sys.stderr)
        return 1
    print(f"Backed up to {summary.describe()}")
    return 0


def restore(args: argparse.Namespace) -> int:
    _setup_django()
    from pathlib import Path

    from django.conf import settings

    from slotwise.operations.backup import BackupError
    from slotwise.operations.backup import restore as restore_backup

    try:
        summary = restore_backup(settings.DATABASES["default"], Path(args.path))
    except BackupError as error:
        print(f"slotwise: restore failed: {error}", file=sys.stderr)
        return 1
    print(f"Restored {summary.describe()}")
    print("Run `slotwise migrate` next if this slotwise is newer than the backup.")
    return 0


def manage(arguments: Sequence[str]) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["slotwise manage", *arguments])
    return 0


def run(args: argparse.Namespace) -> int:
    """Migrate and load the demo here, then supervise the web server and the worker."""
    _setup_django()
    from django.core.management import call_command
    from django.db import connections

    base = _base_url(args.host, args.port)
    call_command("migrate", interactive=False)
    call_command("createcachetable")
    described = str(_load_demo(base)).strip()
    connections.close_all()

    slotwise = [sys.executable, "-m", "slotwise"]
    server = ["--host", args.host, "--port", str(args.port), "--workers", str(args.workers)]
    server += ["--threads", str(args.threads)]
    with stopped_on_exit() as children:
        children["web server"] = _start([*slotwise, "serve", *server])
        children["task worker"] = _start([*slotwise, "worker"])
        if wait_until_listening(args.host, args.port, children.values()):
            lines = [f"slotwise is running: open {base}/", described]
            if f"{base}{DOCS_PATH}" not in described:
                lines.append(f"API docs: {base}{DOCS_PATH}")
            print("\n" + "\n".join(line for line in lines if line), flush=True)
            print("Press Ctrl-C to stop.\n", flush=True)
        return supervise(children)
    return 0  # stopped by Ctrl-C or SIGTERM


def _start(command: list[str]) -> Child:
    # Its own process group: Ctrl-C reaches only us, and we stop the whole group,
    # gunicorn's workers included, in order.
    return subprocess.Popen(command, process_group=0)


@contextmanager
def stopped_on_exit() -> Iterator[dict[str, Child]]:
    """Yield a dict to put named children in; on leaving, however, stop all of them.

    SIGTERM to this process is turned into an orderly exit, like Ctrl-C.
    """

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    children: dict[str, Child] = {}
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield children
    except KeyboardInterrupt:
        print("\nslotwise: stopping", file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop(children.values())


def supervise(children: Mapping[str, Child], poll_seconds: float = 0.2) -> int:
    """Wait until one child exits; return its status (1 if it claimed success).

    Either service stopping on its own means slotwise is no longer whole.
    """
    while True:
        for name, child in children.items():
            status = child.poll()
            if status is not None:
                print(f"slotwise: the {name} exited with status {status}", file=sys.stderr)
                return status or 1
        time.sleep(poll_seconds)


def stop(children: Iterable[Child], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM each child's process group, then SIGKILL what is left after ``grace``."""
    children = list(children)
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.wait()


def _signal_group(child: Child, signum: signal.Signals) -> None:
    if child.poll() is not None:
        return
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        pass


def wait_until_listening(
    host: str, port: int, children: Iterable[Child], timeout: float = 30.0
) -> bool:
    """True once something accepts connections on host:port; False if a child died first."""
    children = list(children)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            return False
        try:
            with socket.create_connection((_connect_host(host), port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _connect_host(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104


def _base_url(host: str, port: int) -> str:
    shown = _connect_host(host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def _setup_django() -> None:
    import django

    django.setup()


def _load_demo(base_url: str | None = None) -> object:
    _setup_django()
    from slotwise.demo import load_demo

    return load_demo() if base_url is None else load_demo(base_url=base_url)
