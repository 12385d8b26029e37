#!/usr/bin/python3
"""Decode an H.264 stream with FFmpeg's decoder (PyAV), for decode_test.go.

Reads encoded frames from stdin, each as a 4-byte big-endian length followed
by that many bytes of Annex-B H.264 (one access unit, as Encoder.Encode
returns it), decodes each as one packet and, at EOF, flushes the decoder.

Writes every decoded picture to the file named by the first argument as raw
I420 (the Y plane, then U, then V, each tightly packed), and prints one line
of JSON on stdout:

    {"frames": N, "sizes": [[w, h], ...], "keyframes": [i, ...],
     "errors": ["..."], "av": "10.0.0"}

"keyframes" lists the indices of decoded pictures FFmpeg marks as key frames.
"""

import json
import struct
import sys

import av


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: decode.py OUT.yuv < frames")
    ctx = av.CodecContext.create("h264", "r")
    sizes, keyframes, errors = [], [], []
    stdin = sys.stdin.buffer

    with open(sys.argv[1], "wb") as out:

        def take(frames):
            for f in frames:
                if f.key_frame:
                    keyframes.append(len(sizes))
                sizes.append([f.width, f.height])
                planes = f.to_ndarray(format="yuv420p")  # (h*3/2, w)
                out.write(planes.tobytes())

        n = 0
        while True:
            head = stdin.read(4)
            if not head:
                break
            if len(head) != 4:
                raise SystemExit("decode.py: truncated length prefix")
            (length,) = struct.unpack(">I", head)
            data = stdin.read(length)
            if len(data) != length:
                raise SystemExit("decode.py: truncated frame")
            try:
                take(ctx.decode(av.Packet(data)))
            except av.AVError as e:
                errors.append(f"frame {n}: {e}")
            n += 1
        try:
            take(ctx.decode(None))
        except av.AVError as e:
            errors.append(f"flush: {e}")

    print(
        json.dumps(
            {
                "frames": len(sizes),
                "sizes": sizes,
                "keyframes": keyframes,
                "errors": errors,
                "av": av.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
