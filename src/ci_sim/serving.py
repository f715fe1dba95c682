"""What every ``ci-sim workshop`` server does before it starts: check its address."""

from __future__ import annotations

import socket

from ci_sim.errors import InputError


def check_address(host: str, port: int) -> None:
    """Refuse an address that cannot be served, before anything is printed about it.

    Raises:
        InputError: if the port is taken or the host is not an address of this machine.
    """
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
    except OSError as error:
        raise InputError(f"--host/--port: cannot serve on {host}:{port} ({error.strerror or error})"
                         ) from None
