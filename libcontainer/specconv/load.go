package specconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/internal/reflectjson"
)

// LoadSpec reads a config.json. A JSON error names where it is: the field
// path (with array indexes, "mounts[1].destination") and the line and
// column, for example
//
//	mounts[1].destination: cannot decode number into string (line 12, column 24)
//
// Unknown fields are ignored, as the spec requires of readers, and so are
// the sections of other platforms (solaris, windows, vm, zos, freebsd).
func LoadSpec(r io.Reader) (*specs.Spec, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var spec linuxSpec
	if err := decodeData(data, &spec); err != nil {
		return nil, err
	}
	if spec.Linux != nil && spec.Linux.IntelRdt != nil && !spec.Linux.IntelRdt.EnableMonitoring {
		if spec.Linux.IntelRdt.EnableMonitoring, err = legacyMonitoring(data); err != nil {
			return nil, err
		}
	}
	return &specs.Spec{
		Version:     spec.Version,
		Process:     spec.Process,
		Root:        spec.Root,
		Hostname:    spec.Hostname,
		Domainname:  spec.Domainname,
		Mounts:      spec.Mounts,
		Hooks:       spec.Hooks,
		Annotations: spec.Annotations,
		Linux:       spec.Linux,
	}, nil
}

// legacyMonitoring reads linux.intelRdt's enableCMT and enableMBM, the
// names runtime-spec 1.1 to 1.2.1 gave to what 1.3 calls enableMonitoring
// (which replaced them: the hardware cannot enable one counter without
// the other). A config that sets either asks for a monitoring group;
// dropped as unknown fields, they would be asked for and not given.
func legacyMonitoring(data []byte) (bool, error) {
	lower := bytes.ToLower(data)
	if !bytes.Contains(lower, []byte(`"enablecmt"`)) && !bytes.Contains(lower, []byte(`"enablembm"`)) {
		return false, nil
	}
	var v struct {
		Linux *struct {
			IntelRdt *struct {
				CMT bool `json:"enableCMT"`
				MBM bool `json:"enableMBM"`
			} `json:"intelRdt"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return false, jsonError(data, err)
	}
	if v.Linux == nil || v.Linux.IntelRdt == nil {
		return false, nil
	}
	return v.Linux.IntelRdt.CMT || v.Linux.IntelRdt.MBM, nil
}

// linuxSpec is specs.Spec without the other platforms' sections, which
// nothing here reads. encoding/json builds the codec of a type's whole
// tree on first use, whatever the data holds, and those sections are two
// fifths of the spec's types: left out, every create decodes faster.
type linuxSpec struct {
	Version     string            `json:"ociVersion"`
	Process     *specs.Process    `json:"process,omitempty"`
	Root        *specs.Root       `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Mounts      []specs.Mount     `json:"mounts,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *specs.Linux      `json:"linux,omitempty"`
}

// LoadProcess reads only the process of a config.json, with LoadSpec's
// errors. It is for exec, which takes its defaults from the bundle: the
// rest of the spec was checked at create, and decoding it would cost
// exec more than anything else it does.
func LoadProcess(r io.Reader) (*specs.Process, error) {
	var spec struct {
		Process *specs.Process `json:"process"`
	}
	if err := decodeConfig(r, &spec); err != nil {
		return nil, err
	}
	if spec.Process == nil {
		return nil, errors.New("process: missing")
	}
	return spec.Process, nil
}

func decodeConfig(r io.Reader, v any) error {
	// The whole file is needed to turn offsets into lines and fields;
	// config.json files are small.
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return decodeData(data, v)
}

// decodeData decodes a whole config.json.
func decodeData(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty config")
	}
	// reflectjson decodes as encoding/json does without first building
	// its codec for the spec's whole type tree (about a millisecond of
	// every create).
	return reflectjson.Decode(data, v, func() error { return decodeJSON(data, v) })
}

// decodeJSON decodes data with encoding/json, its errors placed in the
// file.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(data, err)
	}
	// A second value after the object is a broken file (two configs
	// pasted together, a stray brace), not something to ignore.
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		rest := bytes.TrimLeft(data[end:], " \t\r\n")
		start := int64(len(data)-len(rest)) + 1
		return fmt.Errorf("data after the JSON object (%s)", position(data, start))
	}
	return nil
}

// jsonError rewrites the decoder's errors to say where they are.
func jsonError(data []byte, err error) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("invalid JSON (%s): %s", position(data, syntaxErr.Offset), syntaxErr)
	case errors.As(err, &typeErr):
		field := jsonPath(data, typeErr.Offset)
		if field == "" {
			field = typeErr.Field
		}
		if field == "" {
			field = "config"
		}
		into := typeErr.Type.String()
		if typeErr.Type == reflect.TypeFor[linuxSpec]() {
			into = "specs.Spec"
		} else if typeErr.Type.Name() == "" && typeErr.Type.Kind() == reflect.Struct {
			// LoadProcess's wrapper: its Go spelling helps nobody.
			into = "an object"
		}
		return fmt.Errorf("%s: cannot decode %s into %s (%s)", field, typeErr.Value, into, position(data, typeErr.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("invalid JSON: unexpected end of input (%s)", position(data, int64(len(data))+1))
	}
	return err
}

// position gives the line and column (both from 1) of the byte before
// offset: the decoder reports errors as "after reading offset bytes", so
// that byte is the one at fault.
func position(data []byte, offset int64) string {
	i := int(min(max(offset-1, 0), int64(len(data))))
	before := data[:i]
	line := bytes.Count(before, []byte("\n")) + 1
	col := i - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// pathFrame is one level of nesting while walking the JSON: an array and
// the index of its current element, or an object and its current key.
type pathFrame struct {
	array    bool
	index    int
	key      string
	wantsKey bool
}

// jsonPath returns the path ("mounts[1].destination") of the value that
// ends at offset, or that starts right before it for an object or array.
// The decoder's own UnmarshalTypeError.Field has no array indexes, which
// leaves "mounts.destination" ambiguous in a list of twenty mounts.
func jsonPath(data []byte, offset int64) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []pathFrame
	// done moves the enclosing container past a finished value.
	done := func() {
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if top.array {
				top.index++
			} else {
				top.wantsKey = true
			}
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		delim, isDelim := tok.(json.Delim)
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].wantsKey {
			if isDelim { // '}' closes the object
				stack = stack[:n-1]
				done()
				continue
			}
			key, _ := tok.(string)
			stack[n-1].key, stack[n-1].wantsKey = key, false
			continue
		}
		if isDelim && (delim == ']' || delim == '}') {
			stack = stack[:len(stack)-1]
			done()
			continue
		}
		// tok is a value: a scalar, or the start of an object or array.
		if dec.InputOffset() >= offset {
			return formatPath(stack)
		}
		switch {
		case isDelim && delim == '[':
			stack = append(stack, pathFrame{array: true})
		case isDelim && delim == '{':
			stack = append(stack, pathFrame{wantsKey: true})
		default:
			done()
		}
	}
}

func formatPath(stack []pathFrame) string {
	var b strings.Builder
	for _, f := range stack {
		if f.array {
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.key)
	}
	return b.String()
}
