# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prints every signal cchostd sends (HealthChanged, JobFinished, PropertiesChanged) as one JSON line
[name, path, args]; "READY" once the match rules are in place. Usage: listen.py ADDRESS
buslib.Signals runs it and reads its lines."""
import json
import sys

import dbus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

import client


def main():
    bus = dbus.bus.BusConnection(sys.argv[1], mainloop=DBusGMainLoop())

    def on_signal(*args, member=None, path=None):
        print(json.dumps([member, path, client.plain(list(args))]), flush=True)

    bus.add_signal_receiver(on_signal, bus_name=client.BUS_NAME, member_keyword="member", path_keyword="path")
    # the match rule is installed by the time a round trip to the bus returns
    bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId", "", [])
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
