"""The package under test is the installed wheel, not the source tree."""

import importlib.metadata
import os
import re

import procmon


def test_imported_from_an_installation_not_the_source_tree():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bindings/python
    if os.environ.get("PROCMON_TEST_EDITABLE") != "1":
        assert not os.path.abspath(procmon.__file__).startswith(here + os.sep), procmon.__file__


def test_version_is_the_libraries():
    # The installed distribution's version is what the build read from
    # PROCMON_VERSION_STRING in include/procmon.h (the wheel's METADATA);
    # procmon.VERSION is what the linked library answers at run time.
    assert importlib.metadata.version("procmon") == procmon.VERSION == procmon.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", procmon.VERSION), procmon.VERSION


def test_docstrings_on_public_api():
    for name in procmon.__all__:
        obj = getattr(procmon, name)
        if not name.isupper():
            assert obj.__doc__, name


def test_typed_package_ships_stubs():
    pkg = os.path.dirname(procmon.__file__)
    for f in ("py.typed", "__init__.pyi", "_procmon.pyi"):
        assert os.path.isfile(os.path.join(pkg, f)), f
