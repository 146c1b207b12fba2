"""A Monitor served by procmond, what needs no daemon: where it connects
(endpoint, PROCMON_ENDPOINT, "" for this machine), what a local Monitor
refuses (from_seq, history, the daemon's status), and EPROTO's class."""
import os
import socket

import pytest

import procmon


def test_an_endpoint_with_no_daemon_raises_and_says_start_procmond(tmp_path):
    with pytest.raises(procmon.NoSuchProcess, match="is procmond running"):
        procmon.Monitor(endpoint=str(tmp_path / "procmond.sock"))


def test_the_environment_names_the_daemon_and_an_empty_endpoint_ignores_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PROCMON_ENDPOINT", str(tmp_path / "procmond.sock"))
    with pytest.raises(procmon.NoSuchProcess):
        procmon.Monitor()
    with procmon.Monitor(endpoint="") as m:
        assert os.getpid() in [r.pid for r in m.snapshot()]


def test_a_socket_nobody_listens_on_is_an_error(tmp_path):
    path = str(tmp_path / "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    with pytest.raises(procmon.Error) as e:
        procmon.Monitor(endpoint="unix:" + path)
    assert e.value.code == -5  # PROCMON_EIO


def test_a_local_monitor_refuses_what_only_a_daemon_has():
    with procmon.Monitor(endpoint="") as m:
        with pytest.raises(procmon.Error, match="from_seq"):
            m.subscribe(from_seq=5)
        with pytest.raises(procmon.Error, match="PROCMON_SUBSCRIBE_HISTORY"):
            m.subscribe(history=True)
        with pytest.raises(procmon.Error, match="endpoint"):
            m.daemon_status()
        with pytest.raises(procmon.Error, match="endpoint"):
            m.daemon_clients()


def test_eproto_has_its_class():
    assert issubclass(procmon.ProtocolError, procmon.Error)
    assert issubclass(procmon.ProtocolError, ConnectionError)
    assert procmon.ProtocolError.code == -18
