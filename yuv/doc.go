// Package yuv converts and scales video pictures with libyuv, the SIMD
// library Chromium and WebRTC use for it, writing into pictures the caller
// provides and reuses, so that a video loop does not allocate per frame.
//
// Pictures are Go's own types: *image.YCbCr with 4:2:0 subsampling (I420,
// what cameras, decoders and encoders exchange), *image.RGBA and
// *image.NRGBA (bytes R, G, B, A: libyuv's "ABGR"), and packed B, G, R bytes
// for an OpenCV Mat (libyuv's "RGB24"). The colour conversions are those of
// Go's image/color (color.RGBToYCbCr, color.YCbCrToRGB): BT.601 at full
// range, JPEG's, which libyuv calls J420. They agree with image/color to
// within a step or two of 255 per sample; chroma is the mean of each 2x2
// block of pixels.
//
// Every 4:2:0 picture passed in must have bounds that start at even
// coordinates, as image.NewYCbCr makes them and decoders return them (a
// sub-image at an odd point fails with [ErrFormat]; [FromImage] accepts
// anything). [Reuse] returns a destination of the size wanted, reusing the
// previous one when it fits.
//
// The package needs cgo and libyuv (on Debian, libyuv-dev, which has no
// pkg-config file). It links Debian's static libyuv.a: the few functions it
// calls take about 500 KB, and a program needs neither the shared library
// at run time nor what that links (libjpeg, libstdc++). Without cgo it
// builds with Go implementations of the same functions, per pixel and tens
// of times slower; [LibYUV] tells which a program has. The functions are
// safe for concurrent use on distinct destinations.
package yuv
