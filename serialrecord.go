package rtcbot

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// maxRecordSize bounds the size of a record format: 65535 bytes, far more
// than a microcontroller's serial buffer.
const maxRecordSize = 1<<16 - 1

// fieldKind is what a format character packs.
type fieldKind uint8

const (
	kindChar  fieldKind = iota // c: one byte, as a 1-byte []byte
	kindBool                   // ?: one byte, 0 or 1
	kindInt                    // b h i l q: signed integers
	kindUint                   // B H I L Q: unsigned integers
	kindFloat                  // f d: IEEE 754 floats
	kindBytes                  // Ns: N bytes
)

// recordField is one value of a record.
type recordField struct {
	code   byte // the format character, for error messages
	kind   fieldKind
	offset int // from the start of the record's fields
	size   int // bytes
}

// RecordFormat is a fixed-size binary record described by a Python struct
// format string, the readFormat and writeFormat of RTCBot's
// SerialConnection, optionally with a key for each value (its readKeys and
// writeKeys). SerialConnection uses one for each direction; ParseRecordFormat
// makes one so that a program can check its formats, and what it sends,
// without a device.
//
// The format is an optional byte order followed by format characters, each
// with an optional repeat count ("<hhB", "<2hB", ">I10s"); whitespace
// between them is ignored:
//
//	<          little-endian: an Arduino (AVR, ARM, ESP32) and a Raspberry Pi
//	> or !     big-endian (network order)
//	= or @     little-endian too; no prefix means @
//
//	x          pad byte (no value; zero when encoding, skipped when decoding)
//	c          1 byte, a []byte of length 1 (a string or []byte of one byte when encoding)
//	b / B      int8 / uint8
//	?          bool, 1 byte (any non-zero byte decodes as true)
//	h / H      int16 / uint16
//	i / I      int32 / uint32
//	l / L      int32 / uint32 (Python's standard size for C long)
//	q / Q      int64 / uint64
//	f / d      float32 / float64
//	Ns         N bytes, one value: a []byte (a shorter string or []byte is padded with zeros)
//
// Fields are packed with no padding between them, as an Arduino's
// __attribute__((packed)) struct lays them out. Python's own struct differs
// for @ and for no prefix (native alignment: "@hB" is padded there, not
// here); with <, >, ! and = the bytes are Python's. Python's native-only
// characters (n N P e p) are not supported.
//
// Decoded values are int64 for every integer (uint64 for Q), float64 for f
// and d, bool for ?, and []byte for c and s, so a decoded record can be
// put into a data channel as it is, or turned into a struct with
// DecodeMessage.
type RecordFormat struct {
	format string
	order  binary.ByteOrder
	fields []recordField
	size   int
	keys   []string
}

// ParseRecordFormat parses format, a Python struct format string (see
// RecordFormat). With keys, which must name each value once (pad bytes have
// none), records are maps keyed by them; without, they are tuples ([]any).
// A malformed format, a record over 65535 bytes, or keys that do not match
// the values are errors wrapping ErrInvalidSettings.
func ParseRecordFormat(format string, keys ...string) (*RecordFormat, error) {
	f := &RecordFormat{format: format, order: binary.LittleEndian}
	bad := func(msg string, args ...any) (*RecordFormat, error) {
		return nil, fmt.Errorf("%w: record format %q: %s", ErrInvalidSettings, format, fmt.Sprintf(msg, args...))
	}
	s := format
	if s != "" {
		switch s[0] {
		case '<', '=', '@':
			s = s[1:]
		case '>', '!':
			f.order = binary.BigEndian
			s = s[1:]
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
			i++
			continue
		}
		count, counted := 1, false
		if c >= '0' && c <= '9' {
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(s[i:j])
			if err != nil || n > maxRecordSize {
				return bad("repeat count %s is too large: records have at most %d bytes", s[i:j], maxRecordSize)
			}
			if j == len(s) {
				return bad("repeat count %d without a format character", n)
			}
			count, counted, i = n, true, j
			c = s[i]
		}
		i++
		size, kind := 0, fieldKind(0)
		switch c {
		case 'x':
			size = 1
		case 'c':
			size, kind = 1, kindChar
		case 'b':
			size, kind = 1, kindInt
		case 'B':
			size, kind = 1, kindUint
		case '?':
			size, kind = 1, kindBool
		case 'h':
			size, kind = 2, kindInt
		case 'H':
			size, kind = 2, kindUint
		case 'i', 'l':
			size, kind = 4, kindInt
		case 'I', 'L':
			size, kind = 4, kindUint
		case 'q':
			size, kind = 8, kindInt
		case 'Q':
			size, kind = 8, kindUint
		case 'f':
			size, kind = 4, kindFloat
		case 'd':
			size, kind = 8, kindFloat
		case 's':
			// One value of count bytes ("10s"; "0s" is an empty one).
			if f.size+count > maxRecordSize {
				return bad("records have at most %d bytes", maxRecordSize)
			}
			f.fields = append(f.fields, recordField{code: c, kind: kindBytes, offset: f.size, size: count})
			f.size += count
			continue
		case '<', '>', '!', '=', '@':
			return bad("byte order %q must come first", c)
		default:
			if counted && (c == ' ' || c == '\t') {
				return bad("whitespace between a repeat count and its format character")
			}
			return bad("unsupported format character %q", c)
		}
		if f.size+count*size > maxRecordSize {
			return bad("records have at most %d bytes", maxRecordSize)
		}
		for range count {
			if c != 'x' {
				f.fields = append(f.fields, recordField{code: c, kind: kind, offset: f.size, size: size})
			}
			f.size += size
		}
	}
	if len(keys) > 0 {
		if len(keys) != len(f.fields) {
			return bad("%d keys for %d values", len(keys), len(f.fields))
		}
		seen := make(map[string]bool, len(keys))
		for _, k := range keys {
			if k == "" || seen[k] {
				return bad("key %q is empty or repeated", k)
			}
			seen[k] = true
		}
		f.keys = append([]string(nil), keys...)
	}
	return f, nil
}

// String returns the format string.
func (f *RecordFormat) String() string { return f.format }

// Size returns the size of a record in bytes (without a start byte).
func (f *RecordFormat) Size() int { return f.size }

// Keys returns the records' keys, nil for tuples.
func (f *RecordFormat) Keys() []string { return append([]string(nil), f.keys...) }

// Decode unpacks one record of exactly Size bytes: a map[string]any keyed
// by the format's keys, or a []any tuple without keys. Data of another size
// is an error wrapping ErrInvalidRecord; every byte pattern of the right
// size decodes.
func (f *RecordFormat) Decode(data []byte) (any, error) {
	values, err := f.decodeValues(data)
	if err != nil {
		return nil, err
	}
	if f.keys == nil {
		return values, nil
	}
	m := make(map[string]any, len(values))
	for i, k := range f.keys {
		m[k] = values[i]
	}
	return m, nil
}

func (f *RecordFormat) decodeValues(data []byte) ([]any, error) {
	if len(data) != f.size {
		return nil, fmt.Errorf("%w: %d bytes for format %q of %d", ErrInvalidRecord, len(data), f.format, f.size)
	}
	values := make([]any, len(f.fields))
	for i, fd := range f.fields {
		b := data[fd.offset : fd.offset+fd.size]
		switch fd.kind {
		case kindChar, kindBytes:
			values[i] = append([]byte{}, b...)
		case kindBool:
			values[i] = b[0] != 0
		case kindInt:
			switch fd.size {
			case 1:
				values[i] = int64(int8(b[0]))
			case 2:
				values[i] = int64(int16(f.order.Uint16(b)))
			case 4:
				values[i] = int64(int32(f.order.Uint32(b)))
			default:
				values[i] = int64(f.order.Uint64(b))
			}
		case kindUint:
			switch fd.size {
			case 1:
				values[i] = int64(b[0])
			case 2:
				values[i] = int64(f.order.Uint16(b))
			case 4:
				values[i] = int64(f.order.Uint32(b))
			default:
				values[i] = f.order.Uint64(b)
			}
		case kindFloat:
			if fd.size == 4 {
				values[i] = float64(math.Float32frombits(f.order.Uint32(b)))
			} else {
				values[i] = math.Float64frombits(f.order.Uint64(b))
			}
		}
	}
	return values, nil
}

// Encode packs v into one record of Size bytes (without a start byte). v
// is:
//
//   - a map with string keys (map[string]any, as a data channel delivers
//     JSON objects): the value of each of the format's keys, in the keys'
//     order; other entries are ignored. A map needs keys.
//   - a struct or a pointer to one: with keys, the field tagged
//     `serial:"key"` for each key, or else the field of that name (matched
//     like encoding/json, case-insensitively); without keys, the exported
//     fields in order, but those tagged `serial:"-"`.
//   - a slice or array (a tuple, such as []any{-23, 101}): one element for
//     each value, in order.
//
// Integer fields take any Go integer, a float with an integral value (JSON
// numbers arrive as float64), a json.Number, or a bool (as 0 or 1); float
// fields take numbers; ? takes a bool or a number (non-zero is true); c and s
// take a string or []byte. A missing key, a value of the wrong type, a value
// out of its field's range (300 for B, 1.5 for h, a string longer than its
// s) or a tuple of the wrong length is an error wrapping ErrInvalidRecord,
// naming the field.
func (f *RecordFormat) Encode(v any) ([]byte, error) {
	b, err := f.AppendEncode(make([]byte, 0, f.size), v)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// AppendEncode is Encode, appending the record to dst. On error it returns
// dst unchanged.
func (f *RecordFormat) AppendEncode(dst []byte, v any) ([]byte, error) {
	values, err := f.values(v)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	out := append(dst, make([]byte, f.size)...)
	rec := out[start:]
	for i, fd := range f.fields {
		if err := fd.put(rec[fd.offset:fd.offset+fd.size], f.order, values[i]); err != nil {
			return dst, fmt.Errorf("%w: %s: %w", ErrInvalidRecord, f.fieldName(i), err)
		}
	}
	return out, nil
}

// fieldName names value i for errors: its key, or its position.
func (f *RecordFormat) fieldName(i int) string {
	if f.keys != nil {
		return fmt.Sprintf("field %q (%c)", f.keys[i], f.fields[i].code)
	}
	return fmt.Sprintf("value %d (%c)", i, f.fields[i].code)
}

// values lists the values v holds for the record's fields, in order.
func (f *RecordFormat) values(v any) ([]reflect.Value, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	fail := func(msg string, args ...any) ([]reflect.Value, error) {
		return nil, fmt.Errorf("%w: format %q: %s", ErrInvalidRecord, f.format, fmt.Sprintf(msg, args...))
	}
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return fail("a map needs string keys, not %v", rv.Type().Key())
		}
		if f.keys == nil {
			return fail("a map needs the format's keys (WriteKeys); without them give a tuple")
		}
		values := make([]reflect.Value, len(f.keys))
		for i, k := range f.keys {
			e := rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()))
			if !e.IsValid() {
				return fail("missing key %q", k)
			}
			values[i] = e
		}
		return values, nil
	case reflect.Struct:
		return f.structValues(rv)
	case reflect.Slice, reflect.Array:
		if rv.Len() != len(f.fields) {
			return fail("%d values for %d fields", rv.Len(), len(f.fields))
		}
		values := make([]reflect.Value, rv.Len())
		for i := range values {
			values[i] = rv.Index(i)
		}
		return values, nil
	}
	return fail("want a map, a struct or a tuple (slice), not %T", v)
}

// structValues takes a record's values from a struct's fields.
func (f *RecordFormat) structValues(rv reflect.Value) ([]reflect.Value, error) {
	t := rv.Type()
	if f.keys == nil {
		var values []reflect.Value
		for i := range t.NumField() {
			sf := t.Field(i)
			if sf.IsExported() && sf.Tag.Get("serial") != "-" {
				values = append(values, rv.Field(i))
			}
		}
		if len(values) != len(f.fields) {
			return nil, fmt.Errorf("%w: format %q: %d fields in %v for %d values", ErrInvalidRecord, f.format, len(values), t, len(f.fields))
		}
		return values, nil
	}
	values := make([]reflect.Value, len(f.keys))
	for i, k := range f.keys {
		idx := -1
		for j := range t.NumField() {
			sf := t.Field(j)
			if !sf.IsExported() {
				continue
			}
			if tag := sf.Tag.Get("serial"); tag == k {
				idx = j
				break
			} else if tag == "" && idx < 0 && strings.EqualFold(sf.Name, k) {
				idx = j
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("%w: format %q: %v has no field for key %q", ErrInvalidRecord, f.format, t, k)
		}
		values[i] = rv.Field(idx)
	}
	return values, nil
}

// put packs v into b, the field's bytes.
func (fd recordField) put(b []byte, order binary.ByteOrder, v reflect.Value) error {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return fmt.Errorf("no value (nil)")
		}
		v = v.Elem()
	}
	switch fd.kind {
	case kindChar, kindBytes:
		var data []byte
		switch {
		case v.Kind() == reflect.String:
			data = []byte(v.String())
		case (v.Kind() == reflect.Slice || v.Kind() == reflect.Array) && v.Type().Elem().Kind() == reflect.Uint8:
			data = make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(data), v)
		default:
			return fmt.Errorf("want a string or []byte, not %v", v.Type())
		}
		if fd.kind == kindChar && len(data) != 1 {
			return fmt.Errorf("want one byte, not %d", len(data))
		}
		if len(data) > fd.size {
			return fmt.Errorf("%d bytes do not fit in %d", len(data), fd.size)
		}
		copy(b, data)
	case kindBool:
		switch v.Kind() {
		case reflect.Bool:
			if v.Bool() {
				b[0] = 1
			}
		default:
			x, ok := number(v)
			if !ok {
				return fmt.Errorf("want a bool, not %v", v.Type())
			}
			if x.nonzero() {
				b[0] = 1
			}
		}
	case kindInt, kindUint:
		x, ok := number(v)
		if !ok {
			return fmt.Errorf("want an integer, not %v", v.Type())
		}
		bits, err := x.integer(fd.size*8, fd.kind == kindInt)
		if err != nil {
			return err
		}
		switch fd.size {
		case 1:
			b[0] = byte(bits)
		case 2:
			order.PutUint16(b, uint16(bits))
		case 4:
			order.PutUint32(b, uint32(bits))
		default:
			order.PutUint64(b, bits)
		}
	case kindFloat:
		x, ok := number(v)
		if !ok {
			return fmt.Errorf("want a number, not %v", v.Type())
		}
		fl := x.float()
		if fd.size == 4 {
			f32 := float32(fl)
			if math.IsInf(float64(f32), 0) && !math.IsInf(fl, 0) {
				return fmt.Errorf("%v is out of range for a float32", fl)
			}
			order.PutUint32(b, math.Float32bits(f32))
		} else {
			order.PutUint64(b, math.Float64bits(fl))
		}
	}
	return nil
}

// num is a number given for a field: an integer as a sign and magnitude,
// or a float.
type num struct {
	isFloat bool
	neg     bool
	mag     uint64
	f       float64
}

// number reads v as a number: any integer, float, bool or json.Number.
func number(v reflect.Value) (num, bool) {
	if v.Type() == reflect.TypeFor[json.Number]() {
		s := v.String()
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return intNum(i), true
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return num{mag: u}, true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return num{isFloat: true, f: f}, true
		}
		return num{}, false
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intNum(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return num{mag: v.Uint()}, true
	case reflect.Float32, reflect.Float64:
		return num{isFloat: true, f: v.Float()}, true
	case reflect.Bool:
		if v.Bool() {
			return num{mag: 1}, true
		}
		return num{}, true
	}
	return num{}, false
}

func intNum(i int64) num {
	if i < 0 {
		return num{neg: true, mag: uint64(-(i + 1)) + 1}
	}
	return num{mag: uint64(i)}
}

func (x num) nonzero() bool {
	if x.isFloat {
		return x.f != 0
	}
	return x.mag != 0
}

func (x num) float() float64 {
	switch {
	case x.isFloat:
		return x.f
	case x.neg:
		return -float64(x.mag)
	}
	return float64(x.mag)
}

func (x num) String() string {
	switch {
	case x.isFloat:
		return strconv.FormatFloat(x.f, 'g', -1, 64)
	case x.neg:
		return "-" + strconv.FormatUint(x.mag, 10)
	}
	return strconv.FormatUint(x.mag, 10)
}

// integer returns x as the two's complement bits of an integer of the
// given width, signed or not, or an error if it does not fit.
func (x num) integer(bits int, signed bool) (uint64, error) {
	if x.isFloat {
		f := x.f
		if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
			return 0, fmt.Errorf("%v is not an integer", f)
		}
		switch {
		case f <= -(1 << 63):
			if f < -(1 << 63) {
				return 0, fmt.Errorf("%v is out of range", f)
			}
			x = num{neg: true, mag: 1 << 63}
		case f < 0:
			x = num{neg: true, mag: uint64(-f)}
		case f >= 1<<64:
			return 0, fmt.Errorf("%v is out of range", f)
		default:
			x = num{mag: uint64(f)}
		}
	}
	if x.mag == 0 {
		return 0, nil
	}
	var lo, hi string // the range, for the error
	ok := false
	if signed {
		limit := uint64(1) << (bits - 1)
		ok = x.mag <= limit-1 || (x.neg && x.mag == limit)
		lo, hi = "-"+strconv.FormatUint(limit, 10), strconv.FormatUint(limit-1, 10)
	} else {
		max := uint64(math.MaxUint64) >> (64 - bits)
		ok = !x.neg && x.mag <= max
		lo, hi = "0", strconv.FormatUint(max, 10)
	}
	if !ok {
		return 0, fmt.Errorf("%v is out of range %s..%s", x, lo, hi)
	}
	if x.neg {
		return -x.mag, nil
	}
	return x.mag, nil
}
