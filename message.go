package rtcbot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// MaxMessageSize is the largest message rtcbot sends on a data channel.
// Larger messages are refused: aiortc, behind Python RTCBot, accepts no more
// than 64 KiB and RTCBot does not split messages.
const MaxMessageSize = 64 * 1024

// encodeMessage turns an outgoing item into a data channel message the way
// RTCBot does: every value is JSON-encoded into one text message, except
// []byte, which is sent as a binary message as it is.
func encodeMessage(msg any) (data []byte, binary bool, err error) {
	if b, ok := msg.([]byte); ok {
		data, binary = b, true
	} else if data, err = json.Marshal(msg); err != nil {
		return nil, false, fmt.Errorf("rtcbot: message is not JSON-encodable: %w", err)
	}
	if len(data) > MaxMessageSize {
		return nil, false, fmt.Errorf("%w: %d bytes, over the %d-byte limit", ErrMessageTooLarge, len(data), MaxMessageSize)
	}
	return data, binary, nil
}

// decodeText decodes a received text message the way RTCBot does: JSON when
// it parses (objects as map[string]any, numbers as float64), the raw string
// otherwise. Python's NaN, Infinity and -Infinity tokens, which strict JSON
// refuses, decode to the float64 values they stand for.
func decodeText(text []byte) any {
	var v any
	if err := json.Unmarshal(text, &v); err == nil {
		return v
	}
	if lenient, ok := replaceNonFinite(text); ok {
		if err := json.Unmarshal(lenient, &v); err == nil {
			return restoreNonFinite(v)
		}
	}
	return string(text)
}

// Placeholders for Python's non-finite numbers while decoding.
const (
	nanMark    = "\x00rtcbot:NaN\x00"
	posInfMark = "\x00rtcbot:+Inf\x00"
	negInfMark = "\x00rtcbot:-Inf\x00"
)

// replaceNonFinite rewrites NaN, Infinity and -Infinity tokens outside JSON
// strings into placeholder strings. It reports whether it replaced any.
func replaceNonFinite(text []byte) ([]byte, bool) {
	var out bytes.Buffer
	inString, escaped, replaced := false, false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if inString {
			out.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		var token, mark string
		switch {
		case c == '"':
			inString = true
		case bytes.HasPrefix(text[i:], []byte("NaN")):
			token, mark = "NaN", nanMark
		case bytes.HasPrefix(text[i:], []byte("Infinity")):
			token, mark = "Infinity", posInfMark
		case bytes.HasPrefix(text[i:], []byte("-Infinity")):
			token, mark = "-Infinity", negInfMark
		}
		if token != "" {
			b, _ := json.Marshal(mark)
			out.Write(b)
			i += len(token) - 1
			replaced = true
			continue
		}
		out.WriteByte(c)
	}
	return out.Bytes(), replaced
}

// restoreNonFinite turns the placeholders back into float64 values.
func restoreNonFinite(v any) any {
	switch x := v.(type) {
	case string:
		switch x {
		case nanMark:
			return math.NaN()
		case posInfMark:
			return math.Inf(1)
		case negInfMark:
			return math.Inf(-1)
		}
	case []any:
		for i := range x {
			x[i] = restoreNonFinite(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = restoreNonFinite(x[k])
		}
	}
	return v
}

// DecodeMessage converts a received message (as delivered by a Connection or
// DataChannel: a decoded JSON value, a string or []byte) into a T, for
// programs that prefer their own struct to map[string]any:
//
//	type Control struct{ Code string; State int }
//	c, err := rtcbot.DecodeMessage[Control](msg)
//
// A []byte message is decoded as JSON text.
func DecodeMessage[T any](msg any) (T, error) {
	var out T
	var data []byte
	switch m := msg.(type) {
	case []byte:
		data = m
	default:
		var err error
		if data, err = json.Marshal(m); err != nil {
			return out, fmt.Errorf("rtcbot: decode message: %w", err)
		}
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return out, fmt.Errorf("rtcbot: decode message into %T: %w", out, err)
	}
	return out, nil
}
