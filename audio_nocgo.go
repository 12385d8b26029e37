//go:build !cgo

package rtcbot

import "fmt"

func init() { defaultAudioBackend = noCgoAudio{} }

// noCgoAudio stands in for the sound backend, which needs cgo.
type noCgoAudio struct{}

func (noCgoAudio) open(cfg audioDeviceConfig, _ audioCallbacks) (audioDevice, error) {
	return nil, fmt.Errorf("%w: sound devices need cgo (miniaudio) and this program was built with CGO_ENABLED=0", ErrNoAudioDevice)
}
