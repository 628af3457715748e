"""The ``ember`` command line, driven the way users drive it: ``python -m ember ...`` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]  # the checkout that holds ember/, whichever clone this is


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def python(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300, check=False
    )


def ember(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return python("-m", "ember", *args, cwd=cwd)


def write(path: Path, source: str) -> Path:
    path.write_text(textwrap.dedent(source))
    return path


def frames(stderr: str) -> list[str]:
    """The ``File "...", line N, in F`` lines of a printed traceback."""
    return [line.strip() for line in stderr.splitlines() if line.lstrip().startswith('File "')]


# ------------------------------------------------------------------------------------ the script's world


def test_argv_name_file_and_path(tmp_path: Path) -> None:
    write(
        tmp_path / "show.py",
        """
        import json, sys
        print(json.dumps({"argv": sys.argv, "name": __name__, "file": __file__, "path0": sys.path[0]}))
        """,
    )
    # Options after SCRIPT belong to the script, even ones `ember run` itself knows.
    r = ember("run", "show.py", "a", "-h", "--legacy", "-m", "x", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout)
    assert seen["argv"] == ["show.py", "a", "-h", "--legacy", "-m", "x"]
    assert seen["name"] == "__main__"
    assert seen["file"] == str(tmp_path / "show.py")  # absolute, as python makes it
    assert seen["path0"] == os.path.realpath(tmp_path)


def test_double_dash_ends_ember_options(tmp_path: Path) -> None:
    write(tmp_path / "show.py", "import sys; print(sys.argv)")
    r = ember("run", "--", "show.py", "--", "z", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['show.py', '--', 'z']"


def test_import_torch_is_ember(tmp_path: Path) -> None:
    write(
        tmp_path / "ident.py",
        """
        import sys
        import torch, ember
        assert torch is ember
        assert sys.modules["torch"] is sys.modules["ember"]
        print(torch.__name__)
        """,
    )
    r = ember("run", str(tmp_path / "ident.py"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ember"


def test_torch_submodules_are_ember_submodules(tmp_path: Path) -> None:
    write(
        tmp_path / "sub.py",
        """
        import importlib.util, sys
        if importlib.util.find_spec("ember.nn") is None:
            print("SKIP"); sys.exit(0)
        import ember.nn  # imported under its own name first: torch.nn must still be the same object
        import torch.nn as nn
        assert nn is ember.nn
        assert sys.modules["torch.nn"] is sys.modules["ember.nn"]
        if importlib.util.find_spec("ember.nn.functional") is not None:
            from torch.nn import functional as F
            import ember.nn.functional
            assert F is ember.nn.functional
        print("OK")
        """,
    )
    r = ember("run", str(tmp_path / "sub.py"))
    assert r.returncode == 0, r.stderr
    if r.stdout.strip() == "SKIP":
        pytest.skip("ember.nn does not exist yet")
    assert r.stdout.strip() == "OK"


def test_missing_submodule_says_what_is_missing(tmp_path: Path) -> None:
    write(tmp_path / "miss.py", "import torch\nimport torch.no_such_thing\n")
    r = ember("run", str(tmp_path / "miss.py"))
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: ember does not provide 'torch.no_such_thing' yet")
    # The script's import line is the only frame: no alias, CLI or importlib plumbing.
    assert frames(r.stderr) == [f'File "{tmp_path / "miss.py"}", line 2, in <module>']


# ------------------------------------------------------------------------------------------- tracebacks


def test_traceback_is_what_python_prints(tmp_path: Path) -> None:
    script = write(
        tmp_path / "boom.py",
        """
        def inner():
            raise ValueError("boom")

        def outer():
            try:
                inner()
            except ValueError as exc:
                raise RuntimeError("wrapped") from exc

        outer()
        """,
    )
    r = ember("run", "boom.py", cwd=tmp_path)
    assert r.returncode == 1
    assert "_cli.py" not in r.stderr and "runpy" not in r.stderr
    assert frames(r.stderr)[-1] == f'File "{script}", line 9, in outer'
    assert r.stderr.strip().endswith("RuntimeError: wrapped")
    # Byte for byte what plain python prints for the same script.
    assert r.stderr == python("boom.py", cwd=tmp_path).stderr


def test_syntax_error_is_what_python_prints(tmp_path: Path) -> None:
    write(tmp_path / "bad.py", "x = (\n")
    r = ember("run", "bad.py", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr == python("bad.py", cwd=tmp_path).stderr


def test_script_excepthook_is_honoured(tmp_path: Path) -> None:
    write(
        tmp_path / "hook.py",
        """
        import sys
        sys.excepthook = lambda t, e, tb: print("HOOK", t.__name__, file=sys.stderr)
        raise KeyError(1)
        """,
    )
    r = ember("run", str(tmp_path / "hook.py"))
    assert r.returncode == 1
    assert r.stderr.strip() == "HOOK KeyError"


# ---------------------------------------------------------------------------------------------- exits


@pytest.mark.parametrize(
    ("body", "code", "stderr"),
    [
        ("sys.exit(3)", 3, ""),
        ("sys.exit(0)", 0, ""),
        ("sys.exit()", 0, ""),
        ("sys.exit('bye')", 1, "bye"),
        ("print('done')", 0, ""),
    ],
)
def test_exit_codes(tmp_path: Path, body: str, code: int, stderr: str) -> None:
    write(tmp_path / "ex.py", f"import sys\n{body}\n")
    r = ember("run", str(tmp_path / "ex.py"))
    assert r.returncode == code
    assert r.stderr.strip() == stderr


def test_keyboard_interrupt_exits_130(tmp_path: Path) -> None:
    write(tmp_path / "ki.py", "raise KeyboardInterrupt\n")
    r = ember("run", str(tmp_path / "ki.py"))
    assert r.returncode == 130
    assert r.stderr.strip().endswith("KeyboardInterrupt")
    assert "_cli.py" not in r.stderr


def test_missing_script(tmp_path: Path) -> None:
    r = ember("run", "nope.py", cwd=tmp_path)
    assert r.returncode == 2
    assert "can't open file" in r.stderr and "nope.py" in r.stderr


def test_run_without_target_is_a_usage_error() -> None:
    r = ember("run")
    assert r.returncode == 2
    assert "usage:" in r.stderr


# ----------------------------------------------------------------------------------------------- -m


def test_module_mode(tmp_path: Path) -> None:
    write(
        tmp_path / "mod.py",
        """
        import json, sys
        import torch, ember
        assert torch is ember
        print(json.dumps({"argv": sys.argv, "name": __name__}))
        """,
    )
    r = ember("run", "-m", "mod", "a", "--help", "--legacy", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout)
    assert seen["argv"] == [str(tmp_path / "mod.py"), "a", "--help", "--legacy"]
    assert seen["name"] == "__main__"


def test_module_mode_package_and_traceback(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    write(pkg / "__init__.py", "")
    write(pkg / "__main__.py", "import sys\nprint(sys.argv[1:])\nraise ValueError('in pkg')\n")
    r = ember("run", "-m", "pkg", "x", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.strip() == "['x']"
    assert frames(r.stderr) == [f'File "{pkg / "__main__.py"}", line 3, in <module>']
    assert r.stderr.strip().endswith("ValueError: in pkg")


def test_module_mode_missing_module(tmp_path: Path) -> None:
    r = ember("run", "-m", "no_such_module_here", cwd=tmp_path)
    assert r.returncode == 1
    assert "No module named no_such_module_here" in r.stderr
    assert "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------------- --legacy


def test_legacy_flag(tmp_path: Path) -> None:
    write(tmp_path / "ok.py", "print('ran')\n")
    has_legacy = python(
        "-c", "import importlib.util as u, sys; sys.exit(0 if u.find_spec('ember.compat') else 1)"
    ).returncode == 0 and (
        python("-c", "import ember.compat as c; assert callable(c.legacy)").returncode == 0
    )
    r = ember("run", "--legacy", str(tmp_path / "ok.py"))
    if has_legacy:
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip().endswith("ran")
    else:
        assert r.returncode == 2
        assert "legacy mode is not available in this build" in r.stderr
        assert r.stdout == ""


# ------------------------------------------------------------------------------------- info, help, main


def test_info() -> None:
    version = python("-c", "import ember; print(ember.__version__)").stdout.strip()
    r = ember("info")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert version and version in out
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in out
    assert "numpy" in out and "cupy" in out
    assert "  cpu" in out.splitlines()


def test_no_arguments_prints_help() -> None:
    r = ember()
    assert r.returncode == 0
    assert "usage: ember" in r.stdout
    assert "run" in r.stdout and "info" in r.stdout


def test_main_entry_point(tmp_path: Path) -> None:
    write(tmp_path / "s.py", "import sys; print(sys.argv)\n")
    code = (
        f"import sys; from ember._cli import main; sys.exit(main(['run', {str(tmp_path / 's.py')!r}, 'q']))"
    )
    r = python("-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"[{str(tmp_path / 's.py')!r}, 'q']"


def test_importing_the_cli_is_cheap() -> None:
    code = (
        "import sys, ember; before = set(sys.modules); import ember._cli; "
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('ember') or m == 'numpy'))"
    )
    r = python("-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['ember._cli']"


# ------------------------------------------------------------------------------------ the alias itself


def test_install_uninstall_are_idempotent() -> None:
    code = """
import sys
import ember
from ember import _alias
_alias.install(); _alias.install()
assert sys.meta_path.count(_alias._finder) == 1
import torch
assert torch is ember
_alias.uninstall(); _alias.uninstall()
assert not _alias.installed()
assert not [m for m in sys.modules if m == "torch" or m.startswith("torch.")]
print("OK")
"""
    r = python("-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "OK"


def test_install_refuses_when_real_torch_is_loaded() -> None:
    code = """
import importlib.util, sys
if importlib.util.find_spec("torch") is None:
    print("SKIP"); sys.exit(0)
import torch
from ember import _alias
try:
    _alias.install()
except RuntimeError as exc:
    assert "already imported" in str(exc), exc
    assert not _alias.installed()
    print("OK")
"""
    r = python("-c", code)
    assert r.returncode == 0, r.stderr
    if r.stdout.strip() == "SKIP":
        pytest.skip("no real torch installed to collide with")
    assert r.stdout.strip() == "OK"


def test_alias_reaches_modules_ember_made_at_runtime() -> None:
    code = """
import sys, types
import ember
from ember import _alias
made = sys.modules["ember._made_at_runtime"] = types.ModuleType("ember._made_at_runtime")
_alias.install()
import torch._made_at_runtime
assert sys.modules["torch._made_at_runtime"] is made
print("OK")
"""
    r = python("-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "OK"
