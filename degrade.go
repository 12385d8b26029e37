package rtcbot

import (
	"image"
	"time"

	"github.com/rtcbot-go/rtcbot/yuv"
)

// Degradation below the floor: what an encoder sends when the link carries
// less than VideoSettings.MinBitrate (see DegradationPreference).

// maxDownscale is the most a picture's width and height are divided by,
// and minDownscaled the smallest picture it makes: 160x120, below which
// little can be seen (nor a time code read).
const (
	maxDownscale                   = 4
	minDownscaledW, minDownscaledH = 160, 120
)

// upscaleHold is how long the link must carry enough for a larger picture
// before the encoder goes back to it: each change of size costs a
// keyframe, so a link that wavers around a threshold should not flip the
// size with it.
const upscaleHold = 3 * time.Second

// degrader decides, frame by frame, how an encoder meets a target below the
// floor. Its zero value sends every frame at full size.
type degrader struct {
	divisor int       // the picture's width and height are divided by it; 0 means 1
	upSince time.Time // since when the target allowed a larger picture
	credit  float64   // MaintainResolution: frames owed
}

// plan returns the divisor of the picture's size for the next frame and
// whether to send the frame at all, for a target of bps on a link whose
// floor at full size is floor. A divisor of d is allowed while the target
// reaches floor/d² (as many bits per pixel as the full size at the floor).
func (d *degrader) plan(pref DegradationPreference, bps, floor, width, height, fps int, now time.Time) (divisor int, send bool) {
	if d.divisor == 0 {
		d.divisor = 1
	}
	if pref == MaintainResolution {
		d.divisor = 1
		if bps >= floor {
			d.credit = 0
			return 1, true
		}
		// Send the share of frames the target pays for at the floor's
		// bits per frame, and at least one a second.
		d.credit += max(float64(bps)/float64(floor), 1/float64(fps))
		if d.credit < 1 {
			return 1, false
		}
		d.credit--
		return 1, true
	}
	for d.divisor < maxDownscale && bps < floor/(d.divisor*d.divisor) && width/(2*d.divisor) >= minDownscaledW && height/(2*d.divisor) >= minDownscaledH {
		d.divisor *= 2 // at once: the link cannot carry this size
		d.upSince = time.Time{}
	}
	if up := d.divisor / 2; up >= 1 && bps*2 >= 3*floor/(up*up) {
		// Half as much again as the larger picture needs, for a while.
		if d.upSince.IsZero() {
			d.upSince = now
		} else if now.Sub(d.upSince) >= upscaleHold {
			d.divisor, d.upSince = up, time.Time{}
		}
	} else {
		d.upSince = time.Time{}
	}
	return d.divisor, true
}

// downscale returns src with its width and height divided by divisor (a
// power of two), averaging each divisor by divisor block of pixels (libyuv's
// box filter, through package yuv), written into dst (reused when it has the
// right size, else replaced). Odd sizes are rounded down to even ones, as
// 4:2:0 needs, dropping the last rows and columns. src's bounds start at
// even coordinates, as toI420 returns it.
func downscale(src *image.YCbCr, divisor int, dst *image.YCbCr) *image.YCbCr {
	if divisor <= 1 {
		return src
	}
	w, h := (src.Rect.Dx()/divisor)&^1, (src.Rect.Dy()/divisor)&^1
	dst = yuv.Reuse(dst, w, h)
	// The blocks that fit exactly, so that each is the mean of divisor^2
	// pixels.
	crop := *src
	crop.Rect = image.Rect(0, 0, w*divisor, h*divisor).Add(src.Rect.Min)
	if err := yuv.Scale(dst, &crop, yuv.FilterBox); err != nil {
		return src // too small to divide; not reached: the degrader stops at 160x120
	}
	return dst
}
