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
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # bindings/python, or an unpacked sdist
NAME = "procmon"
PACKAGE_FILES = ("__init__.py", "__init__.pyi", "_procmon.pyi", "_monitor.py", "_events.py", "_journal.py", "_columns.py",
                 "py.typed")
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


def _has_mimalloc():
    prefixes = [p for p in os.environ.get("CMAKE_PREFIX_PATH", "").split(":") if p] + ["/usr", "/usr/local"]
    for prefix in prefixes:
        if glob.glob(f"{prefix}/lib/cmake/mimalloc*/mimalloc-config.cmake") or \
           glob.glob(f"{prefix}/lib/*/cmake/mimalloc*/mimalloc-config.cmake") or \
           glob.glob(f"{prefix}/share/cmake/mimalloc*/mimalloc-config.cmake"):
            return True
    return False


def _run(cmd, log):
    with open(log, "a") as out:
        out.write("$ " + " ".join(map(str, cmd)) + "\n")
        out.flush()
        rc = subprocess.call([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT)
    if rc != 0:
        tail = Path(log).read_text().splitlines()[-40:]
        raise BuildError("procmon: the build failed (" + " ".join(map(str, cmd[:3])) + " ...); last lines of "
                         + str(log) + ":\n" + "\n".join(tail))


def _build_extension():
    """Builds procmon._procmon; returns the path of the built module."""
    _check_tools()
    # One build directory per base interpreter: venvs of the same Python
    # share it, and CMake rebuilds only what changed.
    key = hashlib.sha256(os.path.realpath(getattr(sys, "_base_executable", sys.executable)).encode()).hexdigest()[:10]
    build = HERE / "build" / f"{sys.implementation.cache_tag}-{key}"
    build.mkdir(parents=True, exist_ok=True)
    log = build / "build.log"
    log.write_text("")
    generator = "Ninja" if shutil.which("ninja") else "Unix Makefiles"
    cache = build / "CMakeCache.txt"
    if cache.is_file() and f"CMAKE_GENERATOR:INTERNAL={generator}" not in cache.read_text():
        shutil.rmtree(build)
        build.mkdir(parents=True)
    _run(["cmake", "-S", HERE, "-B", build, "-G", generator, "-DCMAKE_BUILD_TYPE=Release",
          f"-DPython_EXECUTABLE={sys.executable}", f"-DPROCMON_SOURCE_DIR={_core_dir()}",
          f"-Dpybind11_DIR={_pybind11_dir()}"], log)
    _run(["cmake", "--build", build, "--target", "_procmon", "--parallel", str(os.cpu_count() or 2)], log)
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    built = build / f"_procmon{suffix}"
    if not built.is_file():
        raise BuildError(f"procmon: the build finished but {built} is missing; see {log}")
    return built


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
    for f in PACKAGE_FILES:
        yield f"{NAME}/{f}", (HERE / NAME / f).read_bytes()


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
    built = _build_extension()
    files = list(_package_files()) + [(f"{NAME}/{built.name}", built.read_bytes())]
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 660: the extension is built into the source package, and a .pth
    puts this directory on sys.path, so edits to the .py files take effect
    at once (rebuild for C++ changes by installing again)."""
    built = _build_extension()
    target = HERE / NAME / built.name
    shutil.copy2(built, target)
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
