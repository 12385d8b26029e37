package rtcbot

import (
	"image"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// Below the floor, MaintainFramerate halves the picture at once, and halves
// it again below a quarter of the floor, but not below 160x120; it goes back
// up only after the link has carried half as much again as the larger size
// needs for upscaleHold, so a wavering estimate does not flip the size (each
// flip costs a keyframe).
func TestDegraderMaintainFramerate(t *testing.T) {
	const floor = 400_000
	var d degrader
	at := time.Unix(1000, 0)
	step := func(bps int, wantDivisor int) {
		t.Helper()
		divisor, send := d.plan(MaintainFramerate, bps, floor, 640, 480, 30, at)
		if divisor != wantDivisor || !send {
			t.Fatalf("at %d bit/s: divisor %d, send %v; want %d, true", bps, divisor, send, wantDivisor)
		}
		at = at.Add(time.Second / 30)
	}
	step(floor, 1)
	step(floor-1, 2)
	step(floor/4-1, 4) // 160x120: as small as it goes
	step(1000, 4)
	// Enough for half the size, but not half as much again: stays.
	step(floor/4*5/4, 4)
	// Half as much again as half the size needs: back up after the hold.
	for range int(upscaleHold/(time.Second/30)) + 1 { // frame times add up to a hair under the hold
		step(floor/4*2, 4)
	}
	step(floor/4*2, 2)
	// A fall below what half the size needs shrinks it again at once.
	for range 10 {
		step(floor*2, 2)
	}
	step(floor/5, 4)
	if d, _ := (&degrader{}).plan(MaintainFramerate, 1000, floor, 320, 240, 30, at); d != 2 {
		t.Errorf("320x240 far below the floor: divisor %d, want 2 (160x120 is the least)", d)
	}
	if d, _ := (&degrader{}).plan(MaintainFramerate, 1000, floor, 160, 120, 30, at); d != 1 {
		t.Errorf("160x120 below the floor: divisor %d, want 1", d)
	}
}

// MaintainResolution keeps the size and sends the share of frames the
// target pays for at the floor's bits per frame, at least one a second.
func TestDegraderMaintainResolution(t *testing.T) {
	const floor = 300_000
	for _, tc := range []struct {
		bps, want int // frames sent of 300 (10 s at 30 fps)
	}{
		{floor, 300},
		{floor / 2, 150},
		{floor / 3, 100},
		{1000, 10}, // one a second
	} {
		var d degrader
		sent := 0
		for range 300 {
			divisor, send := d.plan(MaintainResolution, tc.bps, floor, 640, 480, 30, time.Time{})
			if divisor != 1 {
				t.Fatalf("divisor %d, want 1", divisor)
			}
			if send {
				sent++
			}
		}
		if sent < tc.want-1 || sent > tc.want+1 {
			t.Errorf("at %d bit/s: %d frames of 300 sent, want %d", tc.bps, sent, tc.want)
		}
	}
}

// downscale averages blocks: the test pattern halved is still the test
// pattern (its time code reads back), and a plane of a known gradient gives
// the block means.
func TestDownscale(t *testing.T) {
	p := timecode.NewPattern(640, 480)
	at := time.UnixMilli(1_700_000_000_123)
	for _, divisor := range []int{2, 4} {
		small := downscale(p.Frame(7, at), divisor, nil)
		if w, h := small.Rect.Dx(), small.Rect.Dy(); w != 640/divisor || h != 480/divisor {
			t.Fatalf("divided by %d: %dx%d", divisor, w, h)
		}
		stamp, err := timecode.Read(small)
		if err != nil || stamp.Seq != 7 || stamp.CaptureMillis != uint32(at.UnixMilli()) {
			t.Errorf("divided by %d: time code %+v, %v", divisor, stamp, err)
		}
	}
	src := image.NewYCbCr(image.Rect(0, 0, 8, 4), image.YCbCrSubsampleRatio420)
	for y := range 4 {
		for x := range 8 {
			src.Y[y*src.YStride+x] = byte(10*x + y)
		}
	}
	got := downscale(src, 2, nil)
	for y := range 2 {
		for x := range 4 {
			// The mean of 10*(2x)+2y, 10*(2x+1)+2y, and the row below: 20x+5+2y+0.5, rounded.
			if want := byte(20*x + 2*y + 6); got.Y[y*got.YStride+x] != want {
				t.Errorf("Y(%d,%d) = %d, want %d", x, y, got.Y[y*got.YStride+x], want)
			}
		}
	}
	if again := downscale(src, 2, got); again != got {
		t.Error("a destination of the right size was not reused")
	}
	if same := downscale(src, 1, nil); same != src {
		t.Error("a divisor of 1 did not return the picture itself")
	}
}

// The bitrates' defaults follow the picture size and stay in order: floor
// <= start <= max.
func TestVideoSettingsBitrates(t *testing.T) {
	for _, tc := range []struct {
		s                    VideoSettings
		w, h                 int
		floor, start, maxBps int
	}{
		{VideoSettings{}, 320, 240, 100_000, 230_400, 230_400},
		{VideoSettings{}, 640, 480, 153_600, 921_600, 921_600},
		{VideoSettings{}, 1280, 720, 460_800, DefaultStartBitrate, 2_764_800},
		{VideoSettings{MaxBitrate: 1_500_000}, 640, 480, 153_600, DefaultStartBitrate, 1_500_000},
		{VideoSettings{MaxBitrate: 500_000, StartBitrate: 2_000_000, MinBitrate: 900_000}, 640, 480, 500_000, 500_000, 500_000},
		{VideoSettings{StartBitrate: 300_000, MinBitrate: 50_000, FPS: 15}, 640, 480, 50_000, 300_000, 460_800},
	} {
		floor, start, top := tc.s.minBitrate(tc.w, tc.h), tc.s.startBitrate(tc.w, tc.h), tc.s.maxBitrate(tc.w, tc.h)
		if floor != tc.floor || start != tc.start || top != tc.maxBps {
			t.Errorf("%+v at %dx%d: floor %d, start %d, max %d; want %d, %d, %d", tc.s, tc.w, tc.h, floor, start, top, tc.floor, tc.start, tc.maxBps)
		}
	}
	// Before the picture size is known (congestion control's start).
	if got := (VideoSettings{}).startBitrate(0, 0); got != DefaultStartBitrate {
		t.Errorf("start before the size is known: %d, want %d", got, DefaultStartBitrate)
	}
}

// The shared encoder follows the slowest link, but not below the floor
// while another link carries more (up to the floor); alone, a slow link
// takes it below the floor, and the picture shrinks.
func TestEncoderFollowsSlowestAboveFloor(t *testing.T) {
	s := VideoSettings{MaxBitrate: 1_000_000, MinBitrate: 200_000, StartBitrate: 500_000}
	for _, tc := range []struct {
		links       linkRange
		bps, divide int
	}{
		{linkRange{}, 500_000, 1},                                        // not measured: the start
		{linkRange{lowest: 300_000, highest: 2_000_000}, 300_000, 1},     // the slowest
		{linkRange{lowest: 2_000_000, highest: 3_000_000}, 1_000_000, 1}, // never above the max
		{linkRange{lowest: 100_000, highest: 2_000_000}, 200_000, 1},     // one slow viewer: the floor
		{linkRange{lowest: 100_000, highest: 150_000}, 150_000, 2},       // all below the floor: the faster, smaller
		{linkRange{lowest: 10_000, highest: 10_000}, lowestBitrate, 4},   // never below lowestBitrate
	} {
		e := &videoSampleEncoder{settings: s, links: tc.links}
		bps, divisor, send := e.plan(640, 480, time.Unix(0, 0))
		if bps != tc.bps || divisor != tc.divide || !send {
			t.Errorf("links %+v: %d bit/s, divisor %d, send %v; want %d, %d, true", tc.links, bps, divisor, send, tc.bps, tc.divide)
		}
	}
}

// BenchmarkDownscale halves 640x480 frames of the moving test pattern, as
// MaintainFramerate does on a slow link.
func BenchmarkDownscale(b *testing.B) {
	p := timecode.NewPattern(640, 480)
	var frames [8]*image.YCbCr
	for i := range frames {
		frames[i] = p.Frame(uint32(i), time.UnixMilli(int64(33*i)))
	}
	var dst *image.YCbCr
	b.SetBytes(640 * 480 * 3 / 2)
	for i := 0; b.Loop(); i++ {
		dst = downscale(frames[i%len(frames)], 2, dst)
	}
}
