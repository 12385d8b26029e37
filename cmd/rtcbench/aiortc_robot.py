#!/usr/bin/python3
"""The Python side of rtcbench: a robot on aiortc (Debian's python3-aiortc),
doing what a Python RTCBot robot does, streaming the same kind of moving test
pattern with rtcbot's frame time code.

    aiortc_robot.py WIDTH HEIGHT FPS CODEC [KBPS]

It prints "ready" once started, reads the desktop's offer (RTCBot's {"sdp", "type"} JSON) as one line on
stdin, prints the answer as one line on stdout, then streams: a WIDTH x HEIGHT
picture at FPS of scrolling diagonal colour bars and a bouncing box, stamped
with the time code (timecode.md), sent as CODEC ("vp8" or "h264"). Every
message on the default data channel is echoed back as {"echo": message}, as
rtcbench's Go robot does. KBPS, if given and not 0, fixes the encoder's
bitrate (aiortc's default, minimum and maximum), as rtcbench -kbps does for
the Go robot; otherwise aiortc's defaults apply. It exits when stdin reaches EOF. Only 127.0.0.1 is
used.
"""

import asyncio
import fractions
import json
import sys
import time

import aioice.ice
import numpy as np
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
    VideoStreamTrack,
)
from av import VideoFrame

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: (
    ["127.0.0.1"] if use_ipv4 else []
)

CHECK_MAGIC = 0x5A5AA5A5


def log(*args):
    print("aiortc_robot.py:", *args, file=sys.stderr, flush=True)


def stamp(img, seq, millis):
    """Write the time code into the top three rows of cells of a BGR image."""
    h, w = img.shape[:2]
    cw, ch = w // 32, h // 30
    words = [seq & 0xFFFFFFFF, millis & 0xFFFFFFFF]
    words.append(words[0] ^ words[1] ^ CHECK_MAGIC)
    shifts = np.arange(31, -1, -1, dtype=np.uint64)
    for row, word in enumerate(words):
        bits = ((np.uint64(word) >> shifts) & np.uint64(1)).astype(np.uint8) * 255
        img[row * ch : (row + 1) * ch, : 32 * cw, :] = np.repeat(bits, cw)[
            np.newaxis, :, np.newaxis
        ]


class PatternTrack(VideoStreamTrack):
    """Diagonal colour bars scrolling by 4 pixels a frame, and a bouncing box."""

    def __init__(self, width, height, fps):
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.seq = 0
        self.start = None
        period = 8 * max(width // 16, 8)
        y, x = np.mgrid[0:height, 0 : width + period]
        band = ((x + y) * 8 // period) % 8
        colours = np.array(
            [[255, 255, 255], [0, 255, 255], [255, 255, 0], [0, 255, 0],
             [255, 0, 255], [0, 0, 255], [255, 0, 0], [0, 0, 0]],
            dtype=np.uint8,
        )
        self.bars = colours[band]
        self.period = period

    async def recv(self):
        # Frames on a steady clock, as aiortc's own tracks pace them.
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.seq / self.fps
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        shift = (self.seq * 4) % self.period
        img = np.ascontiguousarray(self.bars[:, shift : shift + self.width])
        bw, bh = self.width // 6, self.height // 6
        bx = (self.seq * 5) % (2 * (self.width - bw))
        by = (self.seq * 3) % (2 * (self.height - bh))
        bx = bx if bx < self.width - bw else 2 * (self.width - bw) - bx
        by = by if by < self.height - bh else 2 * (self.height - bh) - by
        img[by : by + bh, bx : bx + bw] = (0, 128, 255)
        stamp(img, self.seq, int(time.time() * 1000))
        frame = VideoFrame.from_ndarray(img, format="bgr24")
        frame.pts = self.seq * (90000 // self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        self.seq += 1
        return frame


def loopback_only(sdp):
    kept = [
        line
        for line in sdp.splitlines()
        if not line.startswith("a=candidate:") or line.split()[4] == "127.0.0.1"
    ]
    return "\r\n".join(kept) + "\r\n"


async def main():
    width, height, fps, codec = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    kbps = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    if kbps > 0:
        import aiortc.codecs.h264
        import aiortc.codecs.vpx

        for module in (aiortc.codecs.vpx, aiortc.codecs.h264):
            module.DEFAULT_BITRATE = module.MIN_BITRATE = module.MAX_BITRATE = kbps * 1000
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

    @pc.on("datachannel")
    def on_datachannel(channel):
        @channel.on("message")
        def on_message(data):
            if isinstance(data, bytes):
                return
            try:
                msg = json.loads(data)
            except ValueError:
                msg = data
            channel.send(json.dumps({"echo": msg}))

    sys.stdout.write("ready\n")  # imported and listening: the desktop may start
    sys.stdout.flush()
    line = await reader.readline()
    if not line:
        raise SystemExit("aiortc_robot.py: stdin closed before the offer")
    offer = json.loads(line)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type=offer["type"]))
    pc.addTrack(PatternTrack(width, height, fps))
    mime = "video/H264" if codec == "h264" else "video/VP8"
    prefs = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == mime]
    for t in pc.getTransceivers():
        if t.kind == "video":
            t.setCodecPreferences(prefs)
    await pc.setLocalDescription(await pc.createAnswer())
    answer = {"sdp": loopback_only(pc.localDescription.sdp), "type": pc.localDescription.type}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    log("streaming", f"{width}x{height}@{fps}", mime)

    while await reader.readline():
        pass
    await asyncio.wait_for(pc.close(), 10)


if __name__ == "__main__":
    asyncio.run(main())
