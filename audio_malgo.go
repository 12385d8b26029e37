//go:build cgo

package rtcbot

/*
#cgo linux LDFLAGS: -ldl
#include <stdlib.h>
#ifdef __linux__
#include <dlfcn.h>

static void rtcbot_alsa_silent(const char *file, int line, const char *function, int err, const char *fmt, ...) {}

// rtcbot_quiet_alsa stops libasound printing its errors to stderr (dozens of
// lines on a machine without a sound card), if the library is there: the
// errors are returned to the program instead. miniaudio loads the same copy.
static void rtcbot_quiet_alsa(void) {
	void *lib = dlopen("libasound.so.2", RTLD_NOW | RTLD_GLOBAL);
	if (lib == NULL) {
		return;
	}
	int (*set_handler)(void *) = (int (*)(void *))dlsym(lib, "snd_lib_error_set_handler");
	if (set_handler != NULL) {
		set_handler((void *)rtcbot_alsa_silent);
	}
}
#else
static void rtcbot_quiet_alsa(void) {}
#endif
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gen2brain/malgo"
)

func init() { defaultAudioBackend = malgoBackend{} }

// malgoBackend opens sound devices with miniaudio (through malgo), which
// loads the system's sound libraries (PulseAudio, ALSA, JACK on Linux; Core
// Audio; WASAPI) at run time, so building needs no sound headers.
type malgoBackend struct{}

// realBackends are miniaudio's backends less its null backend, which would
// "open" a silent device on a machine without sound.
var realBackends = []malgo.Backend{
	malgo.BackendWasapi, malgo.BackendDsound, malgo.BackendWinmm, malgo.BackendCoreaudio,
	malgo.BackendSndio, malgo.BackendAudio4, malgo.BackendOss, malgo.BackendPulseaudio,
	malgo.BackendAlsa, malgo.BackendJack, malgo.BackendAaudio, malgo.BackendOpensl,
	malgo.BackendWebaudio,
}

// malgoDevice is an open miniaudio device with its own context.
type malgoDevice struct {
	ctx     *malgo.AllocatedContext
	dev     *malgo.Device
	closing atomic.Bool
}

var quietALSA = sync.OnceFunc(func() { C.rtcbot_quiet_alsa() })

func (malgoBackend) open(cfg audioDeviceConfig, cb audioCallbacks) (audioDevice, error) {
	quietALSA()
	mctx, err := malgo.InitContext(realBackends, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: no sound system found: %v", ErrNoAudioDevice, err)
	}
	d := &malgoDevice{ctx: mctx}
	if err := d.init(cfg, cb); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

func (d *malgoDevice) init(cfg audioDeviceConfig, cb audioCallbacks) error {
	kind, sub := malgo.Capture, "capture"
	if cfg.direction == audioPlayback {
		kind, sub = malgo.Playback, "playback"
	}
	dc := malgo.DefaultDeviceConfig(kind)
	dc.SampleRate = uint32(cfg.sampleRate)
	dc.PeriodSizeInFrames = uint32(cfg.periodFrames)
	format := &dc.Capture
	if kind == malgo.Playback {
		format = &dc.Playback
	}
	format.Format = malgo.FormatF32
	format.Channels = uint32(cfg.channels)

	// miniaudio reads the device id only while the device is initialised:
	// pin it there rather than copying it to C memory.
	var pinner runtime.Pinner
	defer pinner.Unpin()
	if cfg.device != "" {
		id, err := d.find(kind, sub, cfg.device)
		if err != nil {
			return err
		}
		pinner.Pin(id)
		format.DeviceID = unsafe.Pointer(id)
	}

	callbacks := malgo.DeviceCallbacks{
		Data: func(out, in []byte, _ uint32) {
			if kind == malgo.Capture {
				cb.capture(bytesAsFloat32(in))
			} else {
				cb.playback(bytesAsFloat32(out))
			}
		},
		Stop: func() {
			if !d.closing.Load() {
				cb.stopped(fmt.Errorf("rtcbot: the %s device stopped", sub))
			}
		},
	}
	dev, err := malgo.InitDevice(d.ctx.Context, dc, callbacks)
	if err != nil {
		name := cfg.device
		if name == "" {
			name = "default"
		}
		if errors.Is(err, malgo.ErrFormatNotSupported) || errors.Is(err, malgo.ErrInvalidArgs) {
			return fmt.Errorf("rtcbot: %s device %q: %d Hz, %d channels: %w", sub, name, cfg.sampleRate, cfg.channels, err)
		}
		return fmt.Errorf("%w: cannot open the %s device %q: %v", ErrNoAudioDevice, sub, name, err)
	}
	d.dev = dev
	// miniaudio converts to the format asked for; check that it did.
	gotFormat, gotChannels := dev.CaptureFormat(), dev.CaptureChannels()
	if kind == malgo.Playback {
		gotFormat, gotChannels = dev.PlaybackFormat(), dev.PlaybackChannels()
	}
	if gotFormat != malgo.FormatF32 || int(gotChannels) != cfg.channels || int(dev.SampleRate()) != cfg.sampleRate {
		return fmt.Errorf("rtcbot: %s device opened as format %d, %d channels, %d Hz; want float32, %d channels, %d Hz",
			sub, gotFormat, gotChannels, dev.SampleRate(), cfg.channels, cfg.sampleRate)
	}
	if err := dev.Start(); err != nil {
		return fmt.Errorf("%w: cannot start the %s device: %v", ErrNoAudioDevice, sub, err)
	}
	return nil
}

// find returns the id of the device named name: an exact name or id first,
// then the first device whose name contains name, ignoring case.
func (d *malgoDevice) find(kind malgo.DeviceType, sub, name string) (*malgo.DeviceID, error) {
	infos, err := d.ctx.Devices(kind)
	if err != nil {
		return nil, fmt.Errorf("%w: listing %s devices: %v", ErrNoAudioDevice, sub, err)
	}
	var names []string
	for _, info := range infos {
		if strings.EqualFold(info.Name(), name) || idString(info.ID) == name || info.ID.String() == name {
			return &info.ID, nil
		}
		names = append(names, fmt.Sprintf("%q (%s)", info.Name(), idString(info.ID)))
	}
	for _, info := range infos {
		if strings.Contains(strings.ToLower(info.Name()), strings.ToLower(name)) {
			return &info.ID, nil
		}
	}
	return nil, fmt.Errorf("%w: no %s device matches %q; there are: %s", ErrNoAudioDevice, sub, name, strings.Join(names, ", "))
}

// idString returns a device id as text (ALSA and PulseAudio ids are names).
func idString(id malgo.DeviceID) string {
	b := id[:]
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// bytesAsFloat32 views miniaudio's sample buffer as float32 samples.
func bytesAsFloat32(b []byte) []float32 {
	if len(b) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

func (d *malgoDevice) close() {
	d.closing.Store(true)
	if d.dev != nil {
		d.dev.Uninit()
	}
	_ = d.ctx.Uninit()
	d.ctx.Free()
}
