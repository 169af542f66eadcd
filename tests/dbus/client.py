# SPDX-License-Identifier: LGPL-2.1-or-later
"""One D-Bus method call, printed as JSON: {"reply": [...]} or {"error": NAME, "message": TEXT}.

Usage: client.py ADDRESS PATH INTERFACE METHOD SIGNATURE JSON-ARGS
buslib runs it under setpriv as an unprivileged uid; in-process calls use call() directly.
"""
import json
import sys

import dbus

BUS_NAME = "io.cchost.Host1"


def plain(v):
    """dbus-python values as plain Python (bool before int: dbus.Boolean is an int)."""
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16, dbus.UInt32, dbus.UInt64, dbus.Byte)):
        return int(v)
    if isinstance(v, dbus.Double):
        return float(v)
    if isinstance(v, (dbus.String, dbus.ObjectPath, dbus.Signature)):
        return str(v)
    if isinstance(v, (dbus.Array, list, dbus.Struct, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (dbus.Dictionary, dict)):
        return {str(k): plain(x) for k, x in v.items()}
    return v


def connect(address):
    return dbus.bus.BusConnection(address)


def call(bus, path, interface, method, signature, args, timeout=120):
    """Returns ("reply", [values]) or ("error", name, message)."""
    try:
        r = bus.call_blocking(BUS_NAME, path, interface, method, signature, args, timeout=timeout)
    except dbus.exceptions.DBusException as e:
        return ("error", e.get_dbus_name(), e.get_dbus_message())
    if r is None:
        r = []
    elif not isinstance(r, tuple):
        r = [r]
    return ("reply", [plain(x) for x in r])


if __name__ == "__main__":
    address, path, interface, method, signature, args = sys.argv[1:7]
    res = call(connect(address), path, interface, method, signature, json.loads(args))
    if res[0] == "reply":
        print(json.dumps({"reply": res[1]}))
    else:
        print(json.dumps({"error": res[1], "message": res[2]}))
