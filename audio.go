package rtcbot

// AudioChunk is a run of audio, the Go form of RTCBot's (samples, channels)
// float arrays: Samples holds Frames()*Channels float32 values in [-1, 1],
// interleaved (left, right, left, right, ... for stereo). Connections and
// the audio devices use 48 kHz.
type AudioChunk struct {
	// Samples are the interleaved samples.
	Samples []float32
	// Channels is the number of interleaved channels (1 or 2).
	Channels int
	// SampleRate is the number of frames per second, 48000 throughout rtcbot.
	SampleRate int
}

// Frames returns the number of samples per channel in the chunk.
func (a AudioChunk) Frames() int {
	if a.Channels <= 0 {
		return 0
	}
	return len(a.Samples) / a.Channels
}
