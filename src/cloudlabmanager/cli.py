"""The `cloudlabmanager` command: serve, create-user, reset-password, import-json, doctor."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path

from cloudlabmanager.config import Settings
from cloudlabmanager.errors import AppError, StartupError
from cloudlabmanager.logs import configure_logging


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Repeat: ") != first:
            raise AppError("The two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from cloudlabmanager.app import create_app

    if settings.public_url is None:
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # noqa: S104 - a URL, not a bind
        settings = settings.model_copy(update={"public_url": f"http://{host}:{args.port}"})
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=max(5, int(settings.cancel_grace) + 5),
    )
    return 0


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from cloudlabmanager.bootstrap import open_storage

    ctx = open_storage(settings)
    password = _read_password(f"Password for {args.username}: ")
    ctx.users.create_user(args.username, password)
    print(f"created user {args.username}")
    return 0


def _reset_password(settings: Settings, args: argparse.Namespace) -> int:
    from cloudlabmanager.bootstrap import open_storage

    ctx = open_storage(settings)
    username = args.username
    if username is None:
        names = ctx.users.list_usernames()
        if len(names) != 1:
            raise AppError("Name the user with --username (there is not exactly one user).")
        username = names[0]
    password = _read_password(f"New password for {username}: ")
    ctx.users.reset_password(username, password)
    print(f"password of {username} changed; older sessions are signed out")
    return 0


def _import_json(settings: Settings, args: argparse.Namespace) -> int:
    from cloudlabmanager.bootstrap import open_storage
    from cloudlabmanager.storage.legacy import import_legacy_database

    ctx = open_storage(settings)
    summary = import_legacy_database(ctx, Path(args.path), force=args.force)
    print(summary)
    return 0


def _doctor(settings: Settings, _args: argparse.Namespace) -> int:
    from cloudlabmanager.doctor import run_checks

    return run_checks(settings)


def _sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from cloudlabmanager.sandbox import serve

    state_dir = Path(args.state_dir) if args.state_dir else settings.data_dir / "sandbox"
    serve(args.host, args.port, state_dir, settings.sandbox_faults)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudlabmanager", description=__doc__)
    parser.add_argument("--log-format", choices=["text", "json"], default=None)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="start the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_serve)

    create = commands.add_parser("create-user", help="add a user (password from a prompt or stdin)")
    create.add_argument("username")
    create.set_defaults(handler=_create_user)

    reset = commands.add_parser("reset-password", help="set a user's password; signs them out")
    reset.add_argument("--username")
    reset.set_defaults(handler=_reset_password)

    legacy = commands.add_parser("import-json", help="import the original's database.json")
    legacy.add_argument("path")
    legacy.add_argument("--force", action="store_true", help="import into a non-empty database")
    legacy.set_defaults(handler=_import_json)

    doctor = commands.add_parser("doctor", help="check what the server needs")
    doctor.set_defaults(handler=_doctor)

    sandbox = commands.add_parser("sandbox", help="run the sandbox cloud alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8001)
    sandbox.add_argument("--state-dir", default=None)
    sandbox.set_defaults(handler=_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except Exception as exc:  # pydantic's message names the variable at fault
        print(f"error: invalid configuration: {exc}", file=sys.stderr)
        return 2
    if args.log_format:
        settings = settings.model_copy(update={"log_format": args.log_format})
    configure_logging(settings.log_format)
    try:
        code: int = args.handler(settings, args)
    except (AppError, StartupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return code
