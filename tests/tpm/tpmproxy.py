# SPDX-License-Identifier: LGPL-2.1-or-later
"""A TCP proxy in front of swtpm on 127.0.0.1 that counts the TPM commands a client sends: the
round-trip regression test and the FDE benchmark use it (tests/bench/fde.py)."""
import socket
import threading


def free_port_pair():
    """Two consecutive free ports on 127.0.0.1 (the swtpm TCTI uses PORT and PORT+1)."""
    for _ in range(50):
        a = socket.socket()
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        b = socket.socket()
        try:
            b.bind(("127.0.0.1", port + 1))
        except OSError:
            a.close()
            continue
        a.close()
        b.close()
        return port
    raise OSError("no two consecutive free ports on 127.0.0.1")


class CountingProxy:
    """Forwards a swtpm TCTI (data PORT, control PORT+1) on 127.0.0.1 and counts the TPM commands that
    pass on the data channel (each starts with a 10-byte header whose bytes 2..5 are its size)."""

    def __init__(self, target):
        self.target = target
        self.commands = 0
        self.lock = threading.Lock()
        self.port = free_port_pair()
        self.listeners = []
        for off in (0, 1):
            ls = socket.socket()
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("127.0.0.1", self.port + off))
            ls.listen(8)
            self.listeners.append(ls)
            threading.Thread(target=self.accept, args=(ls, target + off, off == 0), daemon=True).start()

    def accept(self, ls, port, count):
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", port))
            threading.Thread(target=self.pump, args=(c, u, count), daemon=True).start()
            threading.Thread(target=self.pump, args=(u, c, False), daemon=True).start()

    def pump(self, src, dst, count):
        buf = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if count:
                    buf += data
                    while len(buf) >= 10 and len(buf) >= int.from_bytes(buf[2:6], "big"):
                        size = int.from_bytes(buf[2:6], "big")
                        if size < 10:
                            break
                        buf = buf[size:]
                        with self.lock:
                            self.commands += 1
                dst.sendall(data)
        except OSError:
            pass
        for sk in (src, dst):
            try:
                sk.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def take(self):
        # a command is counted before it is forwarded: a client that has its last answer was counted whole
        with self.lock:
            n, self.commands = self.commands, 0
        return n

    def close(self):
        for ls in self.listeners:
            ls.close()
