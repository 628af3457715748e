"""The ``ember`` command line.

    python -m ember run SCRIPT [ARGS...]       run an unmodified PyTorch script on ember
    python -m ember run -m MODULE [ARGS...]    the same for a module, like ``python -m``
    python -m ember info                       versions, backends and devices

Importing this module stays cheap: ember's heavy modules load only inside the commands that need them.
"""

from __future__ import annotations

import argparse
import os
import sys
import types
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["COMMANDS", "Command", "main"]


class Command(NamedTuple):
    """One subcommand: its one-line help, a hook that adds its arguments, and the function that runs it."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]


# ---------------------------------------------------------------------------------------------- run

_RUN_USAGE = "%(prog)s [--legacy] (SCRIPT | -m MODULE) [ARGS ...]"


def _configure_run(parser: argparse.ArgumentParser) -> None:
    parser.usage = _RUN_USAGE
    parser.description = (
        "Run a PyTorch script with 'import torch' resolved to ember. Everything from SCRIPT on "
        "(or after -m MODULE) is passed to the program as sys.argv, as with python itself."
    )
    parser.add_argument("-m", dest="module", metavar="MODULE", help="run a library module as a script")
    parser.add_argument("--legacy", action="store_true", help="turn on ember.compat.legacy() first")


def _split_run_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``["run", ...]`` into ember's options and the program's own argv.

    argparse cannot do this: it would take a script's ``-h`` or ``-m`` for its own. Like ``python``,
    options end at the first non-option (SCRIPT), right after ``-m MODULE``, or at ``--``.
    """
    i = 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
        opt = argv[i]
        if opt == "--":
            return argv[:i], argv[i + 1 :]
        if opt == "-m":
            return argv[: i + 2], argv[i + 2 :]
        if opt.startswith("-m"):  # -mMODULE, as python accepts
            return argv[: i + 1], argv[i + 1 :]
        i += 1
    return argv[:i], argv[i:]


def _cmd_run(args: argparse.Namespace) -> int:
    program: list[str] = args.program
    if args.module is None and not program:
        print(f"usage: {_RUN_USAGE % {'prog': 'ember run'}}", file=sys.stderr)
        print("ember run: error: expected a SCRIPT or -m MODULE", file=sys.stderr)
        return 2
    if args.module is None and not os.path.exists(program[0]):
        print(f"ember run: can't open file {os.path.abspath(program[0])!r}: no such file", file=sys.stderr)
        return 2

    from ember import _alias

    try:
        _alias.install()
    except RuntimeError as exc:
        print(f"ember run: {exc}", file=sys.stderr)
        return 2

    if args.module is None:
        # What `python SCRIPT` does: argv as typed, the script's (real) directory first on the path.
        sys.argv[:] = program
        sys.path[0] = os.path.dirname(os.path.realpath(program[0]))
    else:
        # What `python -m MODULE` does; runpy replaces argv[0] with the module's file.
        sys.argv[:] = ["-m", *program]
        sys.path[0] = os.getcwd()

    if args.legacy:
        rc = _enable_legacy()
        if rc:
            return rc

    if args.module is None:
        return _launch(lambda: _run_script(program[0]))
    return _launch(lambda: _run_module(args.module))


def _launch(run: Callable[[], None]) -> int:
    """Run the program; turn what escapes it into an exit code, as the python executable does."""
    try:
        run()
    except SystemExit:
        raise  # the program's own exit code (or message) passes through untouched
    except _NoSuchModule as exc:
        print(f"{sys.executable}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        _report(exc)
        return 130
    except BaseException as exc:  # noqa: BLE001 - reported like an uncaught exception, as python does
        _report(exc)
        return 1
    return 0


def _enable_legacy() -> int:
    """Call ``ember.compat.legacy()``; exit code 2 when this build has no such hook."""
    import importlib

    try:
        compat = importlib.import_module("ember.compat")
    except ModuleNotFoundError as exc:
        if exc.name != "ember.compat":
            raise
        compat = None
    legacy = getattr(compat, "legacy", None)
    if not callable(legacy):
        print("ember run: legacy mode is not available in this build", file=sys.stderr)
        return 2
    legacy()
    return 0


class _NoSuchModule(Exception):
    """``-m MODULE`` named nothing importable; reported in one line, like ``python -m``."""


def _run_script(path: str) -> None:
    """Run a script file as ``__main__`` the way ``python path`` does."""
    import builtins
    import importlib.machinery
    import io
    import runpy

    abspath = os.path.abspath(path)  # python makes __main__.__file__ absolute too
    if not os.path.isfile(abspath):  # a directory or zip file with a __main__.py
        runpy.run_path(abspath, run_name="__main__")
        return
    # compile + exec rather than runpy.run_path: it keeps sys.argv[0] as typed and puts only one
    # plumbing frame (this one) above the script's, which _report() then drops.
    with io.open_code(abspath) as f:
        code = compile(f.read(), abspath, "exec", dont_inherit=True)
    module = types.ModuleType("__main__")
    module.__file__ = abspath
    module.__cached__ = None
    module.__loader__ = importlib.machinery.SourceFileLoader("__main__", abspath)
    module.__builtins__ = builtins
    # Like python, the script stays __main__ after it finishes (atexit handlers may pickle its classes).
    sys.modules["__main__"] = module
    exec(code, module.__dict__)  # noqa: S102 - running the user's script is the point


def _run_module(name: str) -> None:
    """Run a module as ``__main__`` the way ``python -m name`` does."""
    import importlib.util
    import runpy

    from ember._alias import ember_name

    # `-m torch.utils.foo` runs ember.utils.foo: runpy needs the module's code, which the alias hides.
    target = ember_name(name) or name
    try:
        spec = importlib.util.find_spec(target)
    except (ImportError, ValueError) as exc:
        raise _NoSuchModule(
            f"Error while finding module specification for {name!r} ({type(exc).__name__}: {exc})"
        ) from None
    if spec is None:
        if target != name:
            raise _NoSuchModule(f"No module named {name} (ember does not provide {target} yet)")
        raise _NoSuchModule(f"No module named {name}")
    runpy.run_module(target, run_name="__main__", alter_sys=True)


# Frames that exist only because ember launched the program. Leading CLI/runpy frames sit above the
# script's <module>; alias frames sit between an `import torch.x` line and the ember module it loads.
_LAUNCH_MODULES = frozenset({__name__, "runpy"})
_ALIAS_MODULE = "ember._alias"


def _report(exc: BaseException) -> None:
    """Print ``exc`` as python prints an uncaught exception, without ember's launcher frames."""
    _clean(exc, set())
    sys.excepthook(type(exc), exc, exc.__traceback__)  # honours a hook the script installed


def _clean(exc: BaseException | None, seen: set[int]) -> None:
    """Drop launcher frames from ``exc``'s traceback and from every exception chained to it."""
    if exc is None or id(exc) in seen:
        return
    seen.add(id(exc))
    exc.__traceback__ = _strip(exc.__traceback__)
    _clean(exc.__cause__, seen)
    _clean(exc.__context__, seen)
    for sub in getattr(exc, "exceptions", ()):  # ExceptionGroup members
        _clean(sub, seen)


def _strip(tb: types.TracebackType | None) -> types.TracebackType | None:
    """A copy of the traceback chain ``tb`` without launcher frames."""
    kept: list[types.TracebackType] = []
    leading = True
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__")
        leading = leading and module in _LAUNCH_MODULES
        if module == _ALIAS_MODULE:
            # Also drop the import machinery that called the alias; python hides it for plain imports.
            while kept and kept[-1].tb_frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
                kept.pop()
        elif not leading:
            kept.append(tb)
        tb = tb.tb_next
    out = None
    for entry in reversed(kept):
        out = types.TracebackType(out, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return out


# --------------------------------------------------------------------------------------------- info


def _configure_info(parser: argparse.ArgumentParser) -> None:
    parser.description = "Print ember's version, the Python and NumPy versions, backends and devices."


def _cmd_info(args: argparse.Namespace) -> int:
    import platform

    import numpy

    import ember
    from ember import _backend

    cupy_line, cupy = _cupy_status()
    devices = ["cpu"]
    if _backend.cuda_available():
        for i in range(_backend.cuda_device_count()):
            devices.append(f"cuda:{i}{_gpu_name(cupy, i)}")
    print(f"ember   {getattr(ember, '__version__', 'unknown')}")
    print(f"python  {platform.python_version()} ({sys.executable})")
    print(f"numpy   {numpy.__version__}")
    print("backends:")
    print(f"  numpy  {numpy.__version__}")
    print(f"  cupy   {cupy_line}")
    print("devices:")
    for device in devices:
        print(f"  {device}")
    return 0


def _cupy_status() -> tuple[str, types.ModuleType | None]:
    """A one-line description of CuPy, and the module when it imports."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("cupy") is None:
        return "not installed", None
    try:
        cupy = importlib.import_module("cupy")
    except Exception as exc:  # noqa: BLE001 - a broken CuPy install is worth reporting, not crashing on
        return f"installed, but import fails ({type(exc).__name__}: {exc})", None
    return f"installed, {cupy.__version__}", cupy


def _gpu_name(cupy: types.ModuleType | None, index: int) -> str:
    """`` (NAME)`` for GPU ``index``, or "" when it cannot be read."""
    try:
        name = cupy.cuda.runtime.getDeviceProperties(index)["name"]  # type: ignore[union-attr]
        return f" ({name.decode() if isinstance(name, bytes) else name})"
    except Exception:  # noqa: BLE001 - the name is a nicety
        return ""


# ------------------------------------------------------------------------------------------ dispatch


def _examples_dir() -> str:
    """The examples/ folder of the checkout ember runs from (an editable install)."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _configure_examples(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", help="examples to run (default: all), e.g. polynomial_autograd")
    parser.add_argument("--list", action="store_true", help="list the examples and exit")
    parser.add_argument(
        "--dir", default=None, help="folder of example scripts (default: the checkout's examples/)"
    )


def _cmd_examples(args: argparse.Namespace) -> int:
    """Run the example programs one after another, each in its own process, as a user would."""
    import subprocess
    import time

    folder = args.dir or _examples_dir()
    if not os.path.isdir(folder):
        print(f"ember examples: no examples folder at {folder} (run from a source checkout)", file=sys.stderr)
        return 2
    # the digits CNN, the richest example, runs last
    found = sorted(
        (f[:-3] for f in os.listdir(folder) if f.endswith(".py") and not f.startswith("_")),
        key=lambda n: (n == "digits", n),
    )
    if args.list:
        print("\n".join(found))
        return 0
    names = args.names or found
    unknown = [n for n in names if n not in found]
    if unknown:
        print(f"ember examples: unknown example(s) {', '.join(unknown)}; try --list", file=sys.stderr)
        return 2
    for name in names:
        print(f"=== {name}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", "ember", "run", os.path.join(folder, name + ".py")])
        print(
            f"=== {name}: {'ok' if code == 0 else f'failed ({code})'} in "
            f"{time.perf_counter() - start:.1f} s\n",
            flush=True,
        )
        if code:
            return code
    return 0


def _configure_bench(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs=argparse.REMAINDER, help="passed to benchmarks/run.py (try --help)")


def _cmd_bench(args: argparse.Namespace) -> int:
    """Run benchmarks/run.py from the checkout: ember vs torch, side by side."""
    root = os.path.dirname(_examples_dir())
    if not os.path.isfile(os.path.join(root, "benchmarks", "run.py")):
        print("ember bench: no benchmarks/ folder here (run from a source checkout)", file=sys.stderr)
        return 2
    sys.path.insert(0, root)
    from benchmarks.run import main as bench_main

    return bench_main(args.args)


# Subcommands by name.
COMMANDS: dict[str, Command] = {
    "run": Command("run a PyTorch script or module on ember", _configure_run, _cmd_run),
    "info": Command("show versions, backends and devices", _configure_info, _cmd_info),
    "examples": Command("run the example programs (the demo)", _configure_examples, _cmd_examples),
    "bench": Command("time workloads on ember and torch, side by side", _configure_bench, _cmd_bench),
}


def build_parser() -> argparse.ArgumentParser:
    """The ``ember`` argument parser, one subparser per entry of ``COMMANDS``."""
    parser = argparse.ArgumentParser(prog="ember", description="PyTorch's core on NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.configure(sub.add_parser(name, help=command.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m ember`` and the ``ember`` console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    program: list[str] = []
    if argv[:1] == ["run"]:
        argv, program = _split_run_argv(argv)
    if argv[:1] == ["bench"]:  # every option belongs to benchmarks/run.py, which has its own parser
        return _cmd_bench(argparse.Namespace(args=argv[1:]))
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    args.program = program  # the program's argv for `run`; empty for other commands
    return COMMANDS[args.command].handler(args)
