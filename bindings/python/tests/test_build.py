"""The build backend: pip installs from a read-only tree, builds outside it,
and never reuses a module built from other sources."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent  # bindings/python, or an unpacked sdist
sys.path.insert(0, str(PKG / "_build"))
import procmon_build  # noqa: E402

IGNORE = shutil.ignore_patterns("build", "__pycache__", "*.so", "*.pyc")


def copy_tree(dest):
    """What pip needs to build the binding, laid out as the repository (or
    the sdist) has it; returns the binding's directory in the copy."""
    pkg = dest / "bindings" / "python"
    shutil.copytree(PKG, pkg, ignore=IGNORE)
    core = procmon_build._core_dir()
    if core != PKG / "core":
        for part in procmon_build.CORE_PARTS:
            src = core / part
            if src.is_dir():
                shutil.copytree(src, dest / part, ignore=IGNORE)
            else:
                shutil.copy2(src, dest / part)
    return pkg


def listing(root):
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


@pytest.fixture
def scratch():
    # 0755: the build runs as nobody when the tests run as root (root ignores
    # a read-only mode, so only another user shows what the build writes)
    d = Path(tempfile.mkdtemp(prefix="procmon-build-test-"))
    d.chmod(0o755)
    yield d
    subprocess.run(["chmod", "-R", "u+w", str(d)], check=False)
    shutil.rmtree(d, ignore_errors=True)


def run_as_builder(argv, home, **kw):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "PIP_NO_INDEX": "1",
           "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", **kw.pop("env", {})}
    if os.geteuid() == 0:
        kw.update(user=65534, group=65534, extra_groups=[])
    return subprocess.run([str(a) for a in argv], env=env, capture_output=True, text=True, cwd="/", **kw)


def test_pip_installs_from_a_read_only_tree_into_a_venv(scratch):
    tree = scratch / "tree"
    pkg = copy_tree(tree)
    (pkg / "build").mkdir()  # a stale build folder of an older layout: never used
    (pkg / "build" / "CMakeCache.txt").write_text("# CMAKE_HOME_DIRECTORY:INTERNAL=/somewhere/else\n")
    subprocess.run(["chmod", "-R", "a-w", str(tree)], check=True)
    before = listing(tree)
    home, cache = scratch / "home", scratch / "cache"
    for d in (home, cache):
        d.mkdir()
        if os.geteuid() == 0:
            os.chown(d, 65534, 65534)
    r = run_as_builder([sys.executable, "-m", "venv", scratch / "home" / "venv"], home)
    assert r.returncode == 0, r.stderr
    venv_py = home / "venv" / "bin" / "python"

    r = run_as_builder([venv_py, "-m", "pip", "install", "-v", "--no-deps", pkg], home,
                       env={"PROCMON_BUILD_CACHE": str(cache)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert listing(tree) == before  # nothing written into the source tree
    code = "import os, procmon; me = procmon.snapshot().find(os.getpid()); print(me.pid == os.getpid(), procmon.__file__)"
    r = run_as_builder([venv_py, "-c", code], home)
    assert r.returncode == 0 and r.stdout.startswith("True " + str(home / "venv")), r.stdout + r.stderr

    # Installing the same sources again takes the module built above, not a second build
    r = run_as_builder([venv_py, "-m", "pip", "install", "-v", "--no-deps", "--force-reinstall", pkg], home,
                       env={"PROCMON_BUILD_CACHE": str(cache)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "procmon: the module built before from these sources" in r.stdout + r.stderr, r.stdout[-3000:]


def test_the_build_key_follows_the_sources_not_their_place(scratch):
    first = copy_tree(scratch / "a")
    second = copy_tree(scratch / "b")

    def key(pkg):
        return subprocess.run([sys.executable, "-c", "import procmon_build; print(procmon_build._build_key())"],
                              cwd=pkg / "_build", capture_output=True, text=True, check=True).stdout

    assert key(first) == key(second)  # a copy elsewhere: the same module
    header = scratch / "b" / "include" / "procmon.h"
    if not header.exists():  # an sdist's layout
        header = second / "core" / "include" / "procmon.h"
    header.write_text(header.read_text() + "\n/* changed */\n")
    assert key(first) != key(second)  # a changed source: never the old module
    module = second / "src" / "module.cpp"
    third = copy_tree(scratch / "c")
    (third / "src" / "module.cpp").write_text(module.read_text() + "\n// changed\n")
    assert key(first) != key(third)
