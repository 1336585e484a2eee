"""Modbus TCP servers on 127.0.0.1 in a separate process, so that the server's CPU (pymodbus
saturates a core at a few thousand requests/s) is not counted against the gateway's."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import socket
from multiprocessing.connection import Connection

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

REGISTERS = 2000


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _values(index: int) -> list[int]:
    # Varied words so that decoding does real work (no all-zero fast paths).
    return [(index * 7919 + address * 104729) & 0xFFFF for address in range(REGISTERS)]


async def _serve(ports: list[int], ready: Connection) -> None:
    servers = []
    for index, port in enumerate(ports):
        device = SimDevice(
            1,
            simdata=(
                [SimData(0, count=REGISTERS, values=False, datatype=DataType.BITS)],
                [SimData(0, count=REGISTERS, values=False, datatype=DataType.BITS)],
                [SimData(0, values=_values(index), datatype=DataType.REGISTERS)],
                [SimData(0, values=_values(index + 1), datatype=DataType.REGISTERS)],
            ),
        )
        server = ModbusTcpServer([device], address=("127.0.0.1", port))
        await server.serve_forever(background=True)
        servers.append(server)
    ready.send(True)
    await asyncio.get_running_loop().run_in_executor(None, ready.recv)  # until told to stop
    for server in servers:
        await server.shutdown()  # type: ignore[no-untyped-call]  # untyped in pymodbus


def _main(ports: list[int], ready: Connection) -> None:
    # Clients that disconnect with requests in flight (the poller stopping) make the server log
    # every unsent answer; that is expected at the end of a run and not worth the noise.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    asyncio.run(_serve(ports, ready))


class LoopbackServers:
    """`with LoopbackServers(n) as ports:` n servers (unit 1) in a child process."""

    def __init__(self, count: int) -> None:
        self.ports = _free_ports(count)
        self._parent, child = multiprocessing.get_context("spawn").Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_main, args=(self.ports, child), daemon=True
        )

    def __enter__(self) -> list[int]:
        self._process.start()
        if not self._parent.poll(30) or not self._parent.recv():
            raise RuntimeError("benchmark servers did not start")
        return self.ports

    def __exit__(self, *exc: object) -> None:
        self._parent.send(True)
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
