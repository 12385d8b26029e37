// timecode.js: reads rtcbot's frame time code (github.com/rtcbot-go/rtcbot/timecode)
// from a <video> in the browser, to measure latency from the pixels. Defines
// the global `timecode` (also when imported as a module, for its effect).
//
//   const reader = new timecode.Reader(video);
//   video.requestVideoFrameCallback(function frame(now, meta) {
//     const stamp = reader.read(); // {seq, captureMillis} or null
//     if (stamp) console.log("latency", timecode.latency(stamp, performance.timeOrigin + meta.expectedDisplayTime), "ms");
//     video.requestVideoFrameCallback(frame);
//   });
//
// The format is the Go package's: cells of W/32 x H/30 pixels, the top three
// rows of cells carry the sequence number, the capture time in milliseconds
// since the Unix epoch (mod 2^32) and a check word, a bit per cell, most
// significant first; a cell's central half is averaged and thresholded at 128.
(function (root) {
  "use strict";

  const cols = 32;
  const rows = 30;
  const stampRows = 3;
  const checkXor = 0x5a5aa5a5;

  // Reader draws frames of a video into a canvas of the video's size and
  // reads the stamp from it.
  class Reader {
    constructor(video) {
      this.video = video;
      this._canvas = document.createElement("canvas");
      this._ctx = this._canvas.getContext("2d", { willReadFrequently: true });
    }
    // read returns the stamp of the frame the video shows now, or null if
    // there is none (no frame yet, a frame too small, or a check word that
    // does not match).
    read() {
      const w = this.video.videoWidth;
      const h = this.video.videoHeight;
      const cw = Math.floor(w / cols);
      const ch = Math.floor(h / rows);
      if (cw < 1 || ch < 1) {
        return null;
      }
      if (this._canvas.width !== w || this._canvas.height !== h) {
        this._canvas.width = w;
        this._canvas.height = h;
      }
      this._ctx.drawImage(this.video, 0, 0, w, h);
      const pix = this._ctx.getImageData(0, 0, cols * cw, stampRows * ch).data;
      return readPixels(pix, cols * cw, cw, ch);
    }
  }

  // readPixels reads the stamp from RGBA pixels of the stamp area, stride
  // pixels wide, with cells of cw x ch.
  function readPixels(pix, stride, cw, ch) {
    const nx = Math.max(1, Math.floor(cw / 2)), xs = Math.floor((cw - nx) / 2);
    const ny = Math.max(1, Math.floor(ch / 2)), ys = Math.floor((ch - ny) / 2);
    const words = [];
    for (let row = 0; row < stampRows; row++) {
      let word = 0;
      for (let bit = 0; bit < cols; bit++) {
        let sum = 0;
        for (let y = row * ch + ys; y < row * ch + ys + ny; y++) {
          for (let x = bit * cw + xs; x < bit * cw + xs + nx; x++) {
            const i = 4 * (y * stride + x);
            sum += pix[i] + pix[i + 1] + pix[i + 2];
          }
        }
        word = ((word << 1) | (sum >= 128 * 3 * nx * ny ? 1 : 0)) >>> 0;
      }
      words.push(word);
    }
    if (((words[0] ^ words[1] ^ checkXor) >>> 0) !== words[2]) {
      return null;
    }
    return { seq: words[0], captureMillis: words[1] };
  }

  // latency returns the milliseconds from a stamp's capture to atMillis (a
  // time in milliseconds since the Unix epoch), on one machine's clock.
  function latency(stamp, atMillis) {
    const now = Math.floor(atMillis) % 2 ** 32;
    let d = now - stamp.captureMillis;
    if (d < -(2 ** 31)) {
      d += 2 ** 32; // the 32-bit millisecond clock wrapped in between
    }
    return d + (atMillis - Math.floor(atMillis));
  }

  root.timecode = { Reader, readPixels, latency };
})(globalThis);
