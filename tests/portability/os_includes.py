#!/usr/bin/python3
"""The core is portable: only src/platform/<os>/ may talk to an operating system.

Every source file under src/, except those in an OS's own folder under
src/platform/ (src/platform/linux/, ...), may include only
  - the C and C++ standard library headers in STANDARD below,
  - procmon's own headers ("..."), but none from an OS's folder,
  - <mimalloc.h> (see ALSO_ALLOWED),
  - CPU intrinsics headers, only under a preprocessor test of the
    architecture (#if defined(__x86_64__)), beside a portable path,
and calls none of the OS functions in RAW_CALLS (the standard headers pull
some in anyway: <thread> brings pthread.h, so the include check alone is
not enough). src/platform/stub/ is checked too: the stub backend is made of
the standard library alone. So is src/platform/*.hpp, the seam itself.

Usage: os_includes.py SOURCE_DIR. Prints each violation as
file:line: what, and exits 1 when there is any.
"""
import os
import re
import sys

STANDARD = {
    # C++20 library headers
    "algorithm", "any", "array", "atomic", "barrier", "bit", "bitset", "charconv", "chrono", "codecvt",
    "compare", "complex", "concepts", "condition_variable", "coroutine", "deque", "exception", "execution",
    "filesystem", "format", "forward_list", "fstream", "functional", "future", "initializer_list", "iomanip",
    "ios", "iosfwd", "iostream", "istream", "iterator", "latch", "limits", "list", "locale", "map",
    "memory", "memory_resource", "mutex", "new", "numbers", "numeric", "optional", "ostream", "queue",
    "random", "ranges", "ratio", "regex", "scoped_allocator", "semaphore", "set", "shared_mutex",
    "source_location", "span", "sstream", "stack", "stdexcept", "stop_token", "streambuf", "string",
    "string_view", "syncstream", "system_error", "thread", "tuple", "type_traits", "typeindex", "typeinfo",
    "unordered_map", "unordered_set", "utility", "valarray", "variant", "vector", "version",
    # the C library, as C++ has it
    "cassert", "cctype", "cerrno", "cfenv", "cfloat", "cinttypes", "climits", "clocale", "cmath",
    "csetjmp", "csignal", "cstdarg", "cstddef", "cstdint", "cstdio", "cstdlib", "cstring", "ctime",
    "cuchar", "cwchar", "cwctype",
    # the C library (C11), for C sources
    "assert.h", "ctype.h", "errno.h", "fenv.h", "float.h", "inttypes.h", "iso646.h", "limits.h",
    "locale.h", "math.h", "setjmp.h", "signal.h", "stdalign.h", "stdarg.h", "stdatomic.h", "stdbool.h",
    "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "stdnoreturn.h", "string.h", "tgmath.h", "threads.h",
    "time.h", "uchar.h", "wchar.h", "wctype.h",
}

ALSO_ALLOWED = {
    # Types and declarations only: the arena calls mimalloc through function
    # pointers that the platform layer loads at run time (src/core/
    # mimalloc_api.hpp), so the header is the same on every OS and the
    # library never links against mimalloc.
    "mimalloc.h": "mimalloc's declarations for the allocator loaded at run time",
}

# CPU intrinsics: allowed only under an #if that names an architecture.
INTRINSICS = {"nmmintrin.h", "smmintrin.h", "emmintrin.h", "immintrin.h", "x86intrin.h", "arm_acle.h",
              "arm_neon.h"}
ARCH_MACRO = re.compile(r"\b(__x86_64__|__i386__|_M_X64|_M_IX86|__SSE4_2__|__aarch64__|__ARM_FEATURE_CRC32|_M_ARM64)\b")

# OS calls, as they would appear in code (comments and strings are blanked
# first). Distinctive names match anywhere they are called; the names that
# are also method names (open, read, ...) only with the global qualifier ::.
RAW_CALLS = [
    # files and directories
    "::open(", "::openat(", "::close(", "::read(", "::write(", "::pread(", "::pwrite(", "::lseek(",
    "::stat(", "::fstat(", "::fstatat(", "::lstat(", "::unlink(", "::unlinkat(", "::rename(",
    "::renameat(", "::mkdir(", "::rmdir(", "::ftruncate(", "::readlink(", "::access(",
    "openat(", "fstatat(", "unlinkat(", "renameat(", "readlinkat(", "ftruncate(", "posix_fallocate(",
    "fsync(", "fdatasync(", "flock(", "getdents", "opendir(", "fdopendir(", "readdir(", "closedir(",
    "mmap(", "munmap(", "ioctl(", "fcntl(", "pipe2(", "dup2(", "dup3(",
    # the Linux system-call table (src/platform/linux/sys_ops.h)
    "pm_sys(", "pm_sys_ops",
    # processes, users, signals, clocks
    "syscall(", "fork(", "execve(", "waitpid(", "getpid(", "gettid(", "getuid(", "geteuid(",
    "getpwuid", "getpwnam", "getgrgid", "getgrnam", "sysconf(", "clock_gettime(", "sigaction(",
    "pthread_", "sched_", "prctl(",
    # dynamic loading, matching, waiting, allocator internals
    "dlopen(", "dlsym(", "dlclose(", "dlerror(", "fnmatch(", "glob(", "inotify_", "eventfd(", "epoll_",
    "poll(", "ppoll(", "select(", "socket(", "bind(", "recvmsg(", "sendmsg(", "malloc_trim(",
    "malloc_usable_size(", "mallinfo",
]


def call_pattern(name):
    if name.startswith("::"):
        # global qualifier: not preceded by a name (std::, Foo::)
        return re.compile(r"(?<![\w:])" + re.escape(name).replace(r"\(", r"\s*\("))
    # not a member (x.read(, p->read(), not part of a longer name, not
    # qualified by a name (std::, Foo::); ::flock( counts
    return re.compile(r"(?<![\w.>])(?<!\w::)" + re.escape(name).replace(r"\(", r"\s*\("))


CALLS = [(name, call_pattern(name)) for name in RAW_CALLS]
SOURCE_EXT = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".inc")


def blank(text, keep_strings):
    """Comments (and, unless keep_strings, string and char literals) turned
    into spaces, newlines kept, so line numbers still hold."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(text[i:j] if keep_strings else c + " " * max(0, j - i - 2) + c); i = j
        else:
            out.append(c); i += 1
    return "".join(out)


def os_folder(rel):
    """'linux' for src/platform/linux/x.cpp; None outside an OS's folder."""
    parts = rel.split("/")
    if len(parts) >= 4 and parts[0] == "src" and parts[1] == "platform":
        return parts[2]
    return None


def check_file(root, rel):
    path = os.path.join(root, rel)
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    problems = []
    code = blank(text, keep_strings=True)
    conds = []  # enclosing #if conditions; None for an #else branch
    for lineno, line in enumerate(code.split("\n"), 1):
        m = re.match(r"\s*#\s*(\w+)\s*(.*)", line)
        if not m:
            continue
        directive, rest = m.group(1), m.group(2).strip()
        if directive in ("if", "ifdef", "ifndef"):
            conds.append(rest if directive != "ifndef" else None)
        elif directive == "elif":
            if conds: conds[-1] = rest
        elif directive == "else":
            if conds: conds[-1] = None
        elif directive == "endif":
            if conds: conds.pop()
        elif directive == "include":
            angle = re.match(r"<([^>]+)>", rest)
            quoted = re.match(r'"([^"]+)"', rest)
            if angle:
                name = angle.group(1)
                if name in STANDARD or name in ALSO_ALLOWED:
                    continue
                if name in INTRINSICS:
                    if not any(c is not None and ARCH_MACRO.search(c) for c in conds):
                        problems.append((lineno, f"#include <{name}>: intrinsics outside an #if on the CPU architecture"))
                    continue
                problems.append((lineno, f"#include <{name}>: not a C/C++ standard header (OS headers belong under src/platform/<os>/)"))
            elif quoted:
                name = quoted.group(1)
                here = os.path.dirname(rel)
                found = None
                for base in (here, "src", "include"):
                    cand = os.path.normpath(os.path.join(base, name))
                    if os.path.isfile(os.path.join(root, cand)):
                        found = cand
                        break
                if found is None:
                    problems.append((lineno, f'#include "{name}": not one of procmon\'s headers'))
                elif os_folder(found) is not None and os_folder(found) != os_folder(rel):
                    problems.append((lineno, f'#include "{name}": an OS backend\'s header ({found})'))
            else:
                problems.append((lineno, f"#include {rest}: a computed include cannot be checked"))
    calls = blank(text, keep_strings=False)
    for lineno, line in enumerate(calls.split("\n"), 1):
        if re.match(r"\s*#", line):
            continue
        seen = set()  # ::ftruncate( and ftruncate( are one call
        for name, pattern in CALLS:
            key = name.strip(":(")
            if key not in seen and pattern.search(line):
                seen.add(key)
                problems.append((lineno, f"calls {name.rstrip('(')}: an OS call (it belongs under src/platform/<os>/)"))
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().split("\n")[0], file=sys.stderr)
        print("usage: os_includes.py SOURCE_DIR", file=sys.stderr)
        return 2
    root = sys.argv[1]
    files = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, "src")):
        dirnames.sort()
        for fn in sorted(filenames):
            rel = os.path.relpath(os.path.join(dirpath, fn), root).replace(os.sep, "/")
            if fn.endswith(SOURCE_EXT) and os_folder(rel) in (None, "stub"):
                files.append(rel)
    if not files:
        print(f"os_includes: no sources under {root}/src", file=sys.stderr)
        return 2
    bad = 0
    for rel in files:
        for lineno, what in check_file(root, rel):
            print(f"{rel}:{lineno}: {what}")
            bad += 1
    if bad:
        culprits = len({p for p in files if check_file(root, p)})
        print(f"os_includes: {bad} violation(s) in {culprits} of {len(files)} portable files", file=sys.stderr)
        return 1
    print(f"os_includes: {len(files)} portable files include only standard and procmon headers and call no OS function")
    return 0


if __name__ == "__main__":
    sys.exit(main())
