#!/usr/bin/python3
"""Synthesizes xpad360.evdev, an evdev trace of an Xbox 360 pad, and the
events Python RTCBot's Gamepad makes of it (xpad360.jsonl, xpad360.txt).

There is no gamepad on the machines this was written on: the trace is NOT a
recording of hardware. It is built from the event stream the Linux xpad
driver (drivers/input/joystick/xpad.c, xpad360_process_packet) produces for
a wired Xbox 360 pad in its default mapping:

- ABS_X, ABS_Y, ABS_RX, ABS_RY: sticks, -32768..32767 (fuzz 16, flat 128);
  ABS_Y and ABS_RY are inverted by the driver, so pushing up is negative;
- ABS_Z, ABS_RZ: left and right triggers, 0..255;
- ABS_HAT0X, ABS_HAT0Y: the d-pad, -1..1 (left/up is -1);
- BTN_SOUTH (A), BTN_EAST (B), BTN_NORTH (X), BTN_WEST (Y), BTN_TL, BTN_TR,
  BTN_SELECT (back), BTN_START, BTN_MODE (guide), BTN_THUMBL, BTN_THUMBR.

Within one USB report the driver reports the hat, then START, SELECT,
THUMBL, THUMBR, A, B, X, Y, TL, TR, MODE, then the sticks X, Y, RX, RY, then
the triggers Z, RZ, then SYN_REPORT; the input core passes on only values
that changed, all stamped with the report's time. Stick steps here are all
larger than twice the fuzz, so the core's fuzz filter passes them unchanged.

The trace is raw struct input_event records as a 64-bit little-endian Linux
(x86-64, arm64) delivers them: struct timeval (two 8-byte longs), u16 type,
u16 code, s32 value; 24 bytes each.

The expected output is computed here the way RTCBot does it, independently
of the Go code: the inputs package unpacks each record with struct format
'llHHi', makes the timestamp tv_sec + tv_usec / 1000000 and names the type
and code; RTCBot's Gamepad turns each event into the dict {"timestamp",
"code", "state", "event"} and its default filter drops SYN_REPORT.
xpad360.jsonl holds each dict as json.dumps writes it with compact
separators (how the Go side puts it on the wire; Python's default adds a
space after ',' and ':', which no JSON reader minds); xpad360.txt holds
each as print() shows it, as in RTCBot's offloading tutorial.

Run from this directory to regenerate the three files.
"""

import json
import struct

EV_SYN, EV_KEY, EV_ABS = 0x00, 0x01, 0x03
TYPES = {EV_SYN: "Sync", EV_KEY: "Key", EV_ABS: "Absolute"}
CODES = {
    EV_SYN: {0x00: "SYN_REPORT"},
    EV_KEY: {
        0x130: "BTN_SOUTH", 0x131: "BTN_EAST", 0x133: "BTN_NORTH", 0x134: "BTN_WEST",
        0x136: "BTN_TL", 0x137: "BTN_TR", 0x13A: "BTN_SELECT", 0x13B: "BTN_START",
        0x13C: "BTN_MODE", 0x13D: "BTN_THUMBL", 0x13E: "BTN_THUMBR",
    },
    EV_ABS: {
        0x00: "ABS_X", 0x01: "ABS_Y", 0x02: "ABS_Z", 0x03: "ABS_RX", 0x04: "ABS_RY",
        0x05: "ABS_RZ", 0x10: "ABS_HAT0X", 0x11: "ABS_HAT0Y",
    },
}
BY_NAME = {name: (typ, code) for typ, codes in CODES.items() for code, name in codes.items()}

# Reports: (seconds, microseconds, [(code name, value), ...]) in the
# driver's order; each is followed by SYN_REPORT.
REPORTS = [
    # A tapped for 4 ms, one USB polling interval: shorter than the 10 ms
    # the old joystick poll needed.
    (1553379212, 684861, [("BTN_SOUTH", 1)]),
    (1553379212, 688861, [("BTN_SOUTH", 0)]),
    # The left stick pushed up and left, to the end of its range.
    (1553379213, 184861, [("ABS_X", -1240), ("ABS_Y", -1586)]),
    (1553379213, 192861, [("ABS_X", -7944), ("ABS_Y", -10170)]),
    (1553379213, 200861, [("ABS_X", -32768), ("ABS_Y", -32768)]),
    # The left trigger squeezed fully and let go.
    (1553379213, 684861, [("ABS_Z", 64)]),
    (1553379213, 688861, [("ABS_Z", 191)]),
    (1553379213, 692861, [("ABS_Z", 255)]),
    (1553379213, 884861, [("ABS_Z", 0)]),
    # The d-pad: left, centre, down, centre (a report exactly on a second).
    (1553379214, 184861, [("ABS_HAT0X", -1)]),
    (1553379214, 284861, [("ABS_HAT0X", 0)]),
    (1553379214, 384861, [("ABS_HAT0Y", 1)]),
    (1553379215, 0, [("ABS_HAT0Y", 0)]),
    # One report with buttons, the right stick (down right, full) and the
    # right trigger, then everything back to rest in one report.
    (1553379215, 100000, [("BTN_START", 1), ("BTN_EAST", 1), ("ABS_RX", 32767),
                          ("ABS_RY", 32767), ("ABS_RZ", 255)]),
    (1553379215, 300000, [("BTN_START", 0), ("BTN_EAST", 0), ("ABS_X", 0), ("ABS_Y", 0),
                          ("ABS_RX", 0), ("ABS_RY", 0), ("ABS_RZ", 0)]),
    # Every other button, pressed together and released together.
    (1553379215, 684001, [("BTN_SELECT", 1), ("BTN_THUMBL", 1), ("BTN_THUMBR", 1),
                          ("BTN_NORTH", 1), ("BTN_WEST", 1), ("BTN_TL", 1), ("BTN_TR", 1),
                          ("BTN_MODE", 1)]),
    (1553379215, 884999, [("BTN_SELECT", 0), ("BTN_THUMBL", 0), ("BTN_THUMBR", 0),
                          ("BTN_NORTH", 0), ("BTN_WEST", 0), ("BTN_TL", 0), ("BTN_TR", 0),
                          ("BTN_MODE", 0)]),
]

RECORD = "<qqHHi"  # the inputs package's 'llHHi' on 64-bit little-endian Linux


def records():
    for sec, usec, events in REPORTS:
        for name, value in events:
            typ, code = BY_NAME[name]
            yield struct.pack(RECORD, sec, usec, typ, code, value)
        yield struct.pack(RECORD, sec, usec, EV_SYN, 0x00, 0)


def rtcbot_events(trace):
    size = struct.calcsize(RECORD)
    for i in range(0, len(trace), size):
        tv_sec, tv_usec, ev_type, code, value = struct.unpack(RECORD, trace[i:i + size])
        event = {
            "timestamp": tv_sec + (tv_usec / 1000000),
            "code": CODES[ev_type][code],
            "state": value,
            "event": TYPES[ev_type],
        }
        if event["code"] != "SYN_REPORT":  # RTCBot's default eventFilter
            yield event


def main():
    trace = b"".join(records())
    with open("xpad360.evdev", "wb") as f:
        f.write(trace)
    events = list(rtcbot_events(trace))
    with open("xpad360.jsonl", "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    with open("xpad360.txt", "w") as f:
        for e in events:
            print(e, file=f)


if __name__ == "__main__":
    main()
