package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// setupLogging sends slog's default logger, which the library logs
// through too, to --log in --log-format. The lines are those runc writes
// with logrus, because engines read them: containerd's shim shows the
// msg of the last "level":"error" JSON line of the log file as the
// error of a failed runtime call.
func setupLogging(g *globals) error {
	var asJSON bool
	switch g.logFormat {
	case "text":
	case "json":
		asJSON = true
	default:
		return fmt.Errorf("--log-format: invalid value %q (want text or json)", g.logFormat)
	}
	level := slog.LevelInfo
	if g.debug {
		level = slog.LevelDebug
	}
	var w io.Writer = os.Stderr
	if g.logPath != "" {
		path, err := absPath(g.logPath)
		if err != nil {
			return fmt.Errorf("--log: %w", err)
		}
		// O_SYNC as runc: the shim may read the file right after we exit.
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
		w = f
		g.logToFile = true
	}
	slog.SetDefault(slog.New(&logHandler{mu: new(sync.Mutex), w: w, json: asJSON, level: level}))
	g.logReady = true
	return nil
}

// reportError shows the error that ends the command: on stderr for the
// user, and as an error entry in the log for the engine that reads it.
// When the log is stderr in JSON, the entry alone goes there, so that a
// reader of JSON lines is not handed a plain one.
func reportError(g *globals, err error) {
	msg := err.Error()
	if !g.logReady {
		// The flags were bad before the log could be opened.
		fmt.Fprintln(os.Stderr, msg)
		return
	}
	if g.logToFile {
		slog.Error(msg)
		fmt.Fprintln(os.Stderr, msg)
		return
	}
	if g.logFormat == "json" {
		slog.Error(msg)
		return
	}
	fmt.Fprintln(os.Stderr, msg)
}

// logHandler formats records as logrus does: lowercase level names
// ("warning", not "WARN"), and either JSON objects with sorted keys
// (level, msg, time and the attributes) or text lines
// `time="..." level=info msg="..." key=value`.
type logHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	json  bool
	level slog.Level
	attrs []slog.Attr
	group string
}

func (h *logHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(h.attrs[:len(h.attrs):len(h.attrs)], h.prefixed(attrs)...)
	return &n
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	n := *h
	n.group = h.group + name + "."
	return &n
}

func (h *logHandler) prefixed(attrs []slog.Attr) []slog.Attr {
	if h.group == "" {
		return attrs
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = slog.Attr{Key: h.group + a.Key, Value: a.Value}
	}
	return out
}

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	attrs := h.attrs
	if r.NumAttrs() > 0 {
		attrs = append(attrs[:len(attrs):len(attrs)], make([]slog.Attr, 0, r.NumAttrs())...)
		var rec []slog.Attr
		r.Attrs(func(a slog.Attr) bool {
			rec = append(rec, a)
			return true
		})
		attrs = append(attrs, h.prefixed(rec)...)
	}
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	var line []byte
	if h.json {
		line = jsonLine(levelName(r.Level), r.Message, t, attrs)
	} else {
		line = textLine(levelName(r.Level), r.Message, t, attrs)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(line)
	return err
}

// levelName is logrus's name of a level.
func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warning"
	case l >= slog.LevelInfo:
		return "info"
	default:
		return "debug"
	}
}

func jsonLine(level, msg string, t time.Time, attrs []slog.Attr) []byte {
	// A map marshals with sorted keys, as logrus's JSON formatter does.
	m := make(map[string]any, 3+len(attrs))
	for _, a := range attrs {
		k := a.Key
		// logrus keeps its own keys and renames clashing fields.
		if k == "level" || k == "msg" || k == "time" {
			k = "fields." + k
		}
		m[k] = attrValue(a.Value)
	}
	m["level"] = level
	m["msg"] = msg
	m["time"] = t.Format(time.RFC3339)
	b, err := json.Marshal(m)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"level": level, "msg": msg, "time": t.Format(time.RFC3339)})
	}
	return append(b, '\n')
}

func textLine(level, msg string, t time.Time, attrs []slog.Attr) []byte {
	var b strings.Builder
	b.WriteString(`time="`)
	b.WriteString(t.Format(time.RFC3339))
	b.WriteString(`" level=`)
	b.WriteString(level)
	b.WriteString(" msg=")
	b.WriteString(textValue(msg))
	for _, a := range attrs {
		b.WriteByte(' ')
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(textValue(fmt.Sprint(attrValue(a.Value))))
	}
	b.WriteByte('\n')
	return []byte(b.String())
}

// attrValue turns an attribute into what JSON should carry: errors as
// their message, as logrus does, not as an empty object.
func attrValue(v slog.Value) any {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return err.Error()
		}
		return v.Any()
	case slog.KindTime:
		return v.Time().Format(time.RFC3339)
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindGroup:
		m := make(map[string]any)
		for _, a := range v.Group() {
			m[a.Key] = attrValue(a.Value)
		}
		return m
	default:
		return v.Any()
	}
}

// textValue quotes s unless it is made of the characters logrus leaves
// bare.
func textValue(s string) string {
	if s == "" {
		return `""`
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune("-._/@^+", c)
		if !ok {
			return strconv.Quote(s)
		}
	}
	return s
}
