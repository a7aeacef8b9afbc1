"""--keep-job copies of a sandbox folder survive what a killed kernel leaves behind."""

from __future__ import annotations

import os
import socket

from autograde.pipeline.grade import keep_job_folder


def test_sockets_and_fifos_are_skipped_files_kept(tmp_path):
    source = tmp_path / "job"
    (source / "work" / "deep").mkdir(parents=True)
    (source / "out").mkdir()
    (source / "out" / "cells.json").write_text("[]")
    (source / "work" / "deep" / "notes.txt").write_text("x")
    os.mkfifo(source / "work" / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(source / "work" / "kernel.sock"))
    try:
        keep_job_folder(source, tmp_path / "kept")
    finally:
        sock.close()
    kept = tmp_path / "kept"
    assert (kept / "out" / "cells.json").read_text() == "[]"
    assert (kept / "work" / "deep" / "notes.txt").read_text() == "x"
    assert not (kept / "work" / "kernel.sock").exists()
    assert not (kept / "work" / "fifo").exists()
