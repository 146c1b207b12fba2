"""procmon's PEP 517 build backend, in tree, with no requirements.

No package index is reachable where procmon is built, and pip's build
isolation starts from an empty environment, so neither setuptools nor wheel
can be assumed. This backend drives CMake to build the extension
(CMakeLists.txt beside pyproject.toml) and writes the wheel with the
standard library: METADATA, WHEEL with the interpreter's tag, RECORD with
sha256 hashes. It provides build_wheel, build_sdist and build_editable
(PEP 660), and their metadata hooks.

Missing tools are reported once, by name, with the Debian package to install.
"""

import base64
import glob
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # bindings/python, or an unpacked sdist
NAME = "procmon"
# What the C library's build needs, copied into an sdist under core/.
CORE_PARTS = ("CMakeLists.txt", "cmake", "include", "src")


class BuildError(RuntimeError):
    """A build cannot proceed; the message says what to install or fix."""


# ------------------------------------------------------------------ facts

def _core_dir():
    vendored = HERE / "core"  # in an sdist
    if (vendored / "include" / "procmon.h").is_file():
        return vendored
    tree = HERE.parent.parent  # in the repository
    if (tree / "include" / "procmon.h").is_file():
        return tree
    raise BuildError("procmon: the C library's source is missing (expected ../../include/procmon.h or core/)")


def _version():
    header = (_core_dir() / "include" / "procmon.h").read_text()
    m = re.search(r'#define PROCMON_VERSION_STRING "([^"]+)"', header)
    if not m:
        raise BuildError("procmon: PROCMON_VERSION_STRING not found in procmon.h")
    return m.group(1)


def _wheel_tag():
    """cp311-cp311-linux_x86_64 for the running interpreter."""
    impl = {"cpython": "cp", "pypy": "pp"}.get(sys.implementation.name, sys.implementation.name)
    interp = f"{impl}{sys.version_info.major}{sys.version_info.minor}"
    soabi = sysconfig.get_config_var("SOABI") or ""
    m = re.match(r"cpython-(\d+)([a-z]*)", soabi)
    abi = f"cp{m.group(1)}{m.group(2)}" if m else "none"
    platform = re.sub(r"[^a-zA-Z0-9_]", "_", sysconfig.get_platform())
    return f"{interp}-{abi}-{platform}"


def _dist_info():
    return f"{NAME}-{_version()}.dist-info"


def _metadata():
    readme = (HERE / "README.md").read_text()
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {NAME}\n"
        f"Version: {_version()}\n"
        "Summary: Fast process snapshots and lifecycle events for Linux, psutil-shaped\n"
        "Requires-Python: >=3.8\n"
        "Classifier: Operating System :: POSIX :: Linux\n"
        "Classifier: Programming Language :: C++\n"
        "Classifier: Programming Language :: Python :: 3\n"
        "Classifier: Typing :: Typed\n"
        "Provides-Extra: numpy\n"
        "Requires-Dist: numpy; extra == \"numpy\"\n"
        "Description-Content-Type: text/markdown\n"
        "\n" + readme
    )


def _wheel_file():
    return (
        "Wheel-Version: 1.0\n"
        "Generator: procmon_build (in tree)\n"
        "Root-Is-Purelib: false\n"
        f"Tag: {_wheel_tag()}\n"
    )


# ------------------------------------------------------------------ tools

def _check_tools():
    """The first missing tool, named with the Debian package that has it."""
    problems = []
    if not shutil.which("cmake"):
        problems.append("CMake is not installed (Debian: apt install cmake)")
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not cxx or not shutil.which(cxx.split()[0]):
        problems.append("no C++ compiler (Debian: apt install g++)")
    if not shutil.which("ninja") and not shutil.which("make"):
        problems.append("neither ninja nor make (Debian: apt install ninja-build)")
    include = Path(sysconfig.get_paths()["include"])
    if not (include / "Python.h").is_file():
        problems.append(f"Python's headers are missing ({include}/Python.h; Debian: apt install python3-dev)")
    if not _pybind11_dir():
        problems.append("pybind11 is not installed (Debian: apt install pybind11-dev)")
    if not _has_mimalloc():
        problems.append("mimalloc's development files are missing (Debian: apt install libmimalloc-dev)")
    if problems:
        raise BuildError("procmon cannot be built: " + "; ".join(problems))


def _pybind11_dir():
    if os.environ.get("pybind11_DIR"):
        return os.environ["pybind11_DIR"]
    for pattern in ("/usr/lib/cmake/pybind11", "/usr/share/cmake/pybind11", "/usr/local/lib/cmake/pybind11",
                    "/usr/local/share/cmake/pybind11", "/usr/lib/*/cmake/pybind11"):
        for d in glob.glob(pattern):
            if Path(d, "pybind11Config.cmake").is_file():
                return d
    try:  # a pybind11 installed into this interpreter
        import pybind11  # noqa: F401
        return pybind11.get_cmake_dir()
    except Exception:
        return None


def _mimalloc_configs():
    """Folders holding mimalloc's CMake config, in the usual prefixes."""
    prefixes = [p for p in os.environ.get("CMAKE_PREFIX_PATH", "").split(":") if p] + ["/usr", "/usr/local"]
    found = []
    for prefix in prefixes:
        for pattern in ("lib/cmake/mimalloc*", "lib/*/cmake/mimalloc*", "share/cmake/mimalloc*"):
            found += [d for d in sorted(glob.glob(f"{prefix}/{pattern}")) if Path(d, "mimalloc-config.cmake").is_file()]
    return found


def _has_mimalloc():
    return bool(_mimalloc_configs())


def _run(cmd, log):
    with open(log, "a") as out:
        out.write("$ " + " ".join(map(str, cmd)) + "\n")
        out.flush()
        rc = subprocess.call([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT)
    if rc != 0:
        tail = Path(log).read_text().splitlines()[-40:]
        raise BuildError("procmon: the build failed (" + " ".join(map(str, cmd[:3])) + " ...); last lines of "
                         + str(log) + ":\n" + "\n".join(tail))


def _hash_files(h, root, parts):
    """Every file under root/part (part a file or a folder): its path relative
    to root and its bytes, in a fixed order."""
    for part in parts:
        p = root / part
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            if "__pycache__" in f.parts or f.suffix in (".so", ".pyc"):
                continue
            h.update(f"{f.relative_to(root)}\0{f.stat().st_size}\0".encode())
            h.update(f.read_bytes())


def _build_key():
    """A hash of everything that goes into the module: the interpreter, the
    compiler, pybind11, mimalloc, the build flags in the environment and the
    sources (by content and relative path, so the same sources in another
    place, or in an sdist, give the same key and a changed file another)."""
    h = hashlib.sha256()
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    h.update(f"{base}\0{sys.version}\0{sysconfig.get_config_var('EXT_SUFFIX')}\0".encode())
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or ""
    try:
        version = subprocess.run([cxx.split()[0], "--version"], capture_output=True, timeout=30).stdout
    except (OSError, IndexError, subprocess.SubprocessError):
        version = b""
    h.update(f"{shutil.which(cxx.split()[0]) if cxx else ''}\0".encode() + version)
    for d in [_pybind11_dir() or ""] + _mimalloc_configs():
        for f in sorted(glob.glob(os.path.join(d, "*ersion.cmake"))):
            h.update(f.encode() + b"\0" + Path(f).read_bytes())
    for var in sorted(os.environ):
        if var in ("CC", "CXX", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS") or var.startswith("CMAKE_"):
            h.update(f"{var}={os.environ[var]}\0".encode())
    _hash_files(h, HERE, ("CMakeLists.txt", "src", "_build/procmon_build.py"))
    _hash_files(h, _core_dir(), CORE_PARTS)
    return h.hexdigest()[:32]


def _cache_dir():
    """Where built modules are kept by key, or None: PROCMON_BUILD_CACHE (a
    folder, or 0 for none), else $XDG_CACHE_HOME/procmon/build
    (~/.cache/procmon/build)."""
    setting = os.environ.get("PROCMON_BUILD_CACHE")
    if setting is not None:
        return None if setting.lower() in ("", "0", "off", "no", "false") else Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "procmon" / "build"


CACHE_KEEP = 8  # modules kept in the cache: the most recently used


def _cache_store(cache, name, data):
    """Keep data under cache/name; a cache that cannot be written is skipped.
    Written to a temporary name first, so a concurrent build never reads half
    a module."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, cache / name)
        entries = sorted(cache.glob("*.so"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in entries[CACHE_KEEP:]:
            old.unlink()
    except OSError:
        pass


def _build_extension():
    """Builds procmon._procmon; returns (file name, bytes) of the module.

    The build runs in a new temporary folder, never in the source tree (which
    may be read-only, and whose old build folders could be stale). The module
    is kept in a cache keyed on everything that goes into it (_build_key), so
    installing the same sources again, for another venv of this Python or
    editable after a wheel, takes no build.
    """
    _check_tools()
    name = "_procmon" + sysconfig.get_config_var("EXT_SUFFIX")
    cache = _cache_dir()
    key = _build_key() if cache else None
    if cache:
        hit = cache / f"{key}-{name}"
        try:
            data = hit.read_bytes()
            os.utime(hit)
            print(f"procmon: the module built before from these sources ({hit})", file=sys.stderr)
            return name, data
        except OSError:
            pass
    build = Path(tempfile.mkdtemp(prefix="procmon-build-"))
    log = build / "build.log"
    generator = "Ninja" if shutil.which("ninja") else "Unix Makefiles"
    _run(["cmake", "-S", HERE, "-B", build, "-G", generator, "-DCMAKE_BUILD_TYPE=Release",
          f"-DPython_EXECUTABLE={sys.executable}", f"-DPROCMON_SOURCE_DIR={_core_dir()}",
          f"-Dpybind11_DIR={_pybind11_dir()}"], log)
    _run(["cmake", "--build", build, "--target", "_procmon", "--parallel", str(os.cpu_count() or 2)], log)
    built = build / name
    if not built.is_file():
        raise BuildError(f"procmon: the build finished but {built} is missing; see {log}")
    data = built.read_bytes()
    shutil.rmtree(build, ignore_errors=True)  # kept when the build failed: its log says why
    if cache:
        _cache_store(cache, f"{key}-{name}", data)
    return name, data


# ------------------------------------------------------------------ wheels

def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory, files):
    """files: [(arcname, bytes)] without dist-info; returns the wheel's name."""
    dist_info = _dist_info()
    files = list(files) + [
        (f"{dist_info}/METADATA", _metadata().encode()),
        (f"{dist_info}/WHEEL", _wheel_file().encode()),
        (f"{dist_info}/top_level.txt", f"{NAME}\n".encode()),
    ]
    record = [_record_line(name, data) for name, data in files] + [f"{dist_info}/RECORD,,"]
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    name = f"{NAME}-{_version()}-{_wheel_tag()}.whl"
    with zipfile.ZipFile(Path(wheel_directory) / name, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in files:
            info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))  # reproducible
            info.external_attr = (0o755 if arcname.endswith(".so") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return name


def _package_files():
    """The package's modules, stubs and py.typed (not an editable build's module)."""
    for f in sorted((HERE / NAME).iterdir()):
        if f.is_file() and (f.suffix in (".py", ".pyi") or f.name == "py.typed"):
            yield f"{NAME}/{f.name}", f.read_bytes()


def _write_metadata_dir(metadata_directory):
    d = Path(metadata_directory) / _dist_info()
    d.mkdir(parents=True, exist_ok=True)
    (d / "METADATA").write_text(_metadata())
    (d / "WHEEL").write_text(_wheel_file())
    (d / "top_level.txt").write_text(f"{NAME}\n")
    return d.name


# ------------------------------------------------------------------ PEP 517

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _write_metadata_dir(metadata_directory)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _write_metadata_dir(metadata_directory)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, data = _build_extension()
    files = list(_package_files()) + [(f"{NAME}/{name}", data)]
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 660: the extension is built into the source package, and a .pth
    puts this directory on sys.path, so edits to the .py files take effect
    at once (rebuild for C++ changes by installing again)."""
    name, data = _build_extension()
    (HERE / NAME / name).write_bytes(data)
    files = [(f"__editable__.{NAME}.pth", (str(HERE) + "\n").encode())]
    return _write_wheel(wheel_directory, files)


def build_sdist(sdist_directory, config_settings=None):
    """A source archive that builds without the repository: the binding plus
    the C library's sources under core/."""
    base = f"{NAME}-{_version()}"
    name = f"{base}.tar.gz"
    core = _core_dir()

    def add_tree(tf, src, arc):
        for path in sorted(Path(src).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".so", ".pyc"):
                tf.add(path, arcname=f"{base}/{arc}/{path.relative_to(src)}", recursive=False)

    with tarfile.open(Path(sdist_directory) / name, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        for f in ("pyproject.toml", "CMakeLists.txt", "README.md"):
            tf.add(HERE / f, arcname=f"{base}/{f}")
        for d in ("_build", "src", NAME, "tests"):
            add_tree(tf, HERE / d, d)
        for part in CORE_PARTS:
            p = core / part
            if p.is_dir():
                add_tree(tf, p, f"core/{part}")
            else:
                tf.add(p, arcname=f"{base}/core/{part}")
        pkg_info = _metadata().encode()
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(pkg_info)
        info.mtime = 1577836800
        tf.addfile(info, io.BytesIO(pkg_info))
    return name
