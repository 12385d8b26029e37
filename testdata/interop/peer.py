#!/usr/bin/python3
"""An RTCBot-style WebRTC peer built on aiortc, for interop_test.go.

Python RTCBot cannot be installed on the test machines, so this script plays
its part with aiortc directly, doing on the wire exactly what RTCBot 0.2.5
does:

- descriptions are JSON objects with exactly the keys "sdp" and "type",
  made only after ICE gathering completed (no trickle ICE);
- the offerer creates the data channel labelled "default" (ordered);
- every outgoing message is json.dumps'ed into one text message, and every
  incoming text is json.loads'ed, falling back to the raw string.

Usage:

    peer.py offer URL   make the offer and POST it to URL (a Go Handler) with
                        Content-Type text/plain, as RTCBot's browser client
                        does; apply the answer from the response.
    peer.py answer      read the offer from one line of stdin, print the
                        answer as one line of JSON on stdout.

In both modes the peer sends a synthetic 320x240 video track stamped with the
frame time code (see timecode.md), reads the time codes of the video it
receives and reports them once on the data channel (with the codec aiortc
decoded it with, e.g. "video/H264"), sends a raw non-JSON
string and a JSON message when the channel opens, and echoes every message it
receives as {"echo": message}. It closes and exits when stdin reaches EOF.
Logs go to stderr; stdout carries only the answer.

Only 127.0.0.1 is used: aioice is limited to the loopback address, no STUN
or TURN server is configured, and candidates for any other address are
removed from both descriptions.
"""

import asyncio
import json
import logging
import sys
import time
import urllib.parse
import urllib.request

import aioice.ice
import aiortc
import aiortc.rtcrtpreceiver
import numpy as np
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

WIDTH, HEIGHT = 320, 240
CHECK_MAGIC = 0x5A5AA5A5
VIDEO_REPORT_AFTER = 10  # valid frames received before reporting

# aioice gathers every address except 127.0.0.1; use 127.0.0.1 only.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: (
    ["127.0.0.1"] if use_ipv4 else []
)

# The codecs aiortc decodes incoming media with, in the order it picked
# their decoders (its receiver's decoder thread calls get_decoder for each
# new codec; list.append is atomic in CPython), for the video report.
DECODED_CODECS = []
_get_decoder = aiortc.rtcrtpreceiver.get_decoder


def _recording_get_decoder(codec):
    DECODED_CODECS.append(codec.mimeType)
    return _get_decoder(codec)


aiortc.rtcrtpreceiver.get_decoder = _recording_get_decoder


def log(*args):
    print("peer.py:", *args, file=sys.stderr, flush=True)


class AcceptedREMB(logging.Filter):
    """Passes only aiortc's sender's line for a REMB it took for its own SSRC
    (and gave its encoder as the target bitrate), for TestInteropREMB."""

    def filter(self, record):
        return "receiver estimated maximum bitrate" in record.getMessage()


_remb_handler = logging.StreamHandler(sys.stderr)
_remb_handler.addFilter(AcceptedREMB())
_remb_handler.setFormatter(logging.Formatter("peer.py: aiortc: %(message)s"))
logging.getLogger("aiortc.rtcrtpsender").setLevel(logging.DEBUG)
logging.getLogger("aiortc.rtcrtpsender").addHandler(_remb_handler)


def loopback_only(sdp):
    """Remove every a=candidate line whose address is not 127.0.0.1."""
    kept = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            fields = line.split()
            if len(fields) < 5 or fields[4] != "127.0.0.1":
                log("dropping non-loopback candidate:", line)
                continue
        kept.append(line)
    return "\r\n".join(kept) + "\r\n"


def description_json(desc):
    """RTCBot's description shape: exactly the keys sdp and type."""
    return json.dumps({"sdp": loopback_only(desc.sdp), "type": desc.type})


def parse_description(text):
    desc = json.loads(text)
    desc["sdp"] = loopback_only(desc["sdp"])
    # Like RTCBot: every key received goes into the description, so an
    # extra key fails here.
    return RTCSessionDescription(**desc)


# --- time code (timecode.md) ---------------------------------------------


def cell_size(w, h):
    return w // 32, h // 30


def stamp(img, seq, millis):
    """Draw the time code into the top three cell rows of a BGR image."""
    h, w = img.shape[:2]
    cw, ch = cell_size(w, h)
    words = [seq & 0xFFFFFFFF, millis & 0xFFFFFFFF]
    words.append(words[0] ^ words[1] ^ CHECK_MAGIC)
    shifts = np.arange(31, -1, -1, dtype=np.uint64)
    for row, word in enumerate(words):
        bits = ((np.uint64(word) >> shifts) & np.uint64(1)).astype(np.uint8) * 255
        img[row * ch : (row + 1) * ch, : 32 * cw, :] = np.repeat(bits, cw)[
            np.newaxis, :, np.newaxis
        ]


def span(n):
    length = max(n // 2, 1)
    return (n - length) // 2, length


def read_stamp(img):
    """Read (seq, millis) from a BGR image, or None if the check fails."""
    h, w = img.shape[:2]
    cw, ch = cell_size(w, h)
    if cw == 0 or ch == 0:
        return None
    xs, nx = span(cw)
    ys, ny = span(ch)
    cells = img[: 3 * ch, : 32 * cw, :].astype(np.float64).mean(axis=2)
    cells = cells.reshape(3, ch, 32, cw)[:, ys : ys + ny, :, xs : xs + nx]
    bits = cells.mean(axis=(1, 3)) >= 128
    words = []
    for row in bits:
        word = 0
        for b in row:
            word = (word << 1) | int(b)
        words.append(word)
    if words[2] != words[0] ^ words[1] ^ CHECK_MAGIC:
        return None
    return words[0], words[1]


class TimecodeTrack(VideoStreamTrack):
    """A synthetic camera: scrolling colour bars under the time code."""

    def __init__(self):
        super().__init__()
        self.seq = 0
        x = np.arange(WIDTH * 2)
        bars = np.stack(
            [(x * 3) % 256, (x * 5 + 80) % 256, (x * 7 + 160) % 256], axis=-1
        ).astype(np.uint8)
        self.bars = bars

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        shift = (self.seq * 4) % WIDTH
        row = self.bars[shift : shift + WIDTH]
        img = np.ascontiguousarray(np.broadcast_to(row, (HEIGHT, WIDTH, 3)))
        stamp(img, self.seq, int(time.time() * 1000))
        self.seq += 1
        frame = VideoFrame.from_ndarray(img, format="bgr24")
        frame.pts = pts
        frame.time_base = time_base
        return frame


# --- the peer ----------------------------------------------------------------


class Peer:
    def __init__(self):
        # No STUN: aiortc would otherwise default to Google's server.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channel = None
        self.tasks = []
        self.pc.on("datachannel", self.on_datachannel)
        self.pc.on("track", self.on_track)
        self.pc.on(
            "connectionstatechange",
            lambda: log("connection state", self.pc.connectionState),
        )

    def send(self, msg):
        """RTCBot's put_nowait: one JSON text message."""
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(json.dumps(msg))

    def attach(self, channel):
        if channel.label != "default":
            log("ignoring channel", channel.label)
            return
        self.channel = channel

        @channel.on("message")
        def on_message(data):
            if isinstance(data, bytes):
                log("binary message of", len(data), "bytes ignored")
                return
            try:
                msg = json.loads(data)
            except ValueError:
                msg = data
            self.send({"echo": msg})

        def greet():
            # A raw string that is not JSON (RTCBot's JavaScript client sends
            # strings as they are), then a JSON message with Python's
            # non-finite numbers, which strict JSON refuses.
            channel.send("hello from aiortc, not JSON")
            self.send(
                {
                    "from": "python",
                    "aiortc": aiortc.__version__,
                    "values": [1.5, float("nan"), float("inf"), float("-inf")],
                    "text": "grüße ✓",
                }
            )

        if channel.readyState == "open":
            greet()
        else:
            channel.on("open", greet)

    def on_datachannel(self, channel):
        self.attach(channel)

    def on_track(self, track):
        log("incoming", track.kind, "track")
        if track.kind == "video":
            self.tasks.append(asyncio.ensure_future(self.watch_video(track)))

    async def watch_video(self, track):
        """Read the time codes of incoming video; report once on the channel."""
        valid = failed = 0
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            img = frame.to_ndarray(format="bgr24")
            s = read_stamp(img)
            if s is None:
                failed += 1
                continue
            valid += 1
            if valid == VIDEO_REPORT_AFTER:
                self.send(
                    {
                        "video": {
                            "width": frame.width,
                            "height": frame.height,
                            "valid": valid,
                            "failed": failed,
                            "seq": s[0],
                            "codec": next(
                                (
                                    c
                                    for c in reversed(DECODED_CODECS)
                                    if c.lower().startswith("video/")
                                ),
                                None,
                            ),
                        }
                    }
                )

    async def close(self):
        for t in self.tasks:
            t.cancel()
        await self.pc.close()


async def read_stdin_line(reader):
    line = await reader.readline()
    if not line:
        raise SystemExit("peer.py: stdin closed before a description arrived")
    return line.decode()


def post(url, body):
    # Straight to the test's server on 127.0.0.1, never through a proxy.
    host = urllib.parse.urlsplit(url).hostname
    if host != "127.0.0.1":
        raise SystemExit(f"peer.py: refusing to post to {host}: 127.0.0.1 only")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(
        url,
        data=body.encode(),
        headers={"Content-Type": "text/plain;charset=UTF-8"},
        method="POST",
    )
    with opener.open(req, timeout=20) as resp:
        return resp.read().decode()


async def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode not in ("offer", "answer") or (mode == "offer") != (len(sys.argv) == 3):
        raise SystemExit("usage: peer.py offer URL | peer.py answer")
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )

    peer = Peer()
    pc = peer.pc
    log("aiortc", aiortc.__version__, "mode", mode)
    if mode == "offer":
        peer.attach(pc.createDataChannel("default", ordered=True))
        pc.addTrack(TimecodeTrack())  # sendrecv: sends and asks for video
        await pc.setLocalDescription(await pc.createOffer())  # gathers fully
        answer = await loop.run_in_executor(
            None, post, sys.argv[2], description_json(pc.localDescription)
        )
        await pc.setRemoteDescription(parse_description(answer))
    else:
        offer = parse_description(await read_stdin_line(reader))
        await pc.setRemoteDescription(offer)
        pc.addTrack(TimecodeTrack())  # takes the offered video transceiver
        await pc.setLocalDescription(await pc.createAnswer())  # gathers fully
        sys.stdout.write(description_json(pc.localDescription) + "\n")
        sys.stdout.flush()

    # Run until the test closes stdin.
    while await reader.readline():
        pass
    log("stdin closed, closing")
    await asyncio.wait_for(peer.close(), 10)


if __name__ == "__main__":
    asyncio.run(main())
