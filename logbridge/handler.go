package logbridge

import (
	"context"
	"log/slog"
	"slices"

	"github.com/otelbearer/otelbearer"
)

// Handler is a [slog.Handler] that stamps otelbearer's request attributes on
// every record logged with a request context and redacts credentials from
// the message and the attributes before passing the record to the next
// handler.
//
// Stamped attributes (see [otelbearer.Attributes]) are added at the top
// level of the record, before the record's own attributes, whatever groups
// the caller opened with WithGroup: Handler keeps the caller's groups
// itself and re-nests the caller's attributes, so the next handler never
// sees a WithGroup call. Attributes added with WithAttrs before any group
// are redacted once and passed to the next handler's WithAttrs.
//
// A Handler is immutable and safe for concurrent use if the next handler
// is.
type Handler struct {
	next   slog.Handler
	red    slogRedactor
	groups []group // open groups, outermost first
}

// group is a group opened with WithGroup and the attributes added inside it.
type group struct {
	name  string
	attrs []slog.Attr // redacted
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a Handler that passes redacted, stamped records to
// next. next must not be nil.
func NewHandler(next slog.Handler, opts ...Option) *Handler {
	c := newConfig(opts)
	return &Handler{next: next, red: slogRedactor{r: c.redactor}}
}

// Enabled reports whether the next handler handles records at level l.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle redacts r, adds the stamped attributes of ctx at the top level and
// passes the result to the next handler, returning its error. r is not
// modified.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	msg, _ := h.red.str("", r.Message)
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	for _, kv := range otelbearer.Attributes(ctx) {
		out.AddAttrs(slogAttr(kv))
	}
	if len(h.groups) == 0 {
		r.Attrs(func(a slog.Attr) bool {
			out.AddAttrs(h.red.attr(a))
			return true
		})
		return h.next.Handle(ctx, out)
	}
	inner := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		if a = h.red.attr(a); !empty(a) {
			inner = append(inner, a)
		}
		return true
	})
	for i := len(h.groups) - 1; i >= 0; i-- {
		g := h.groups[i]
		if len(g.attrs)+len(inner) == 0 {
			continue // no empty groups in the output
		}
		attrs := make([]slog.Attr, 0, len(g.attrs)+len(inner))
		attrs = append(append(attrs, g.attrs...), inner...)
		inner = []slog.Attr{{Key: g.name, Value: slog.GroupValue(attrs...)}}
	}
	out.AddAttrs(inner...)
	return h.next.Handle(ctx, out)
}

// empty reports whether a would be ignored by a handler: an empty Attr or
// a group with no non-empty members.
func empty(a slog.Attr) bool {
	if a.Value.Kind() != slog.KindGroup {
		return a.Key == "" && a.Value.Kind() == slog.KindAny && a.Value.Any() == nil
	}
	for _, m := range a.Value.Group() {
		if !empty(m) {
			return false
		}
	}
	return true
}

// WithAttrs returns a Handler whose records also carry attrs, redacted, in
// the innermost open group.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	red := h.red.attrs(attrs)
	h2 := *h
	if len(h.groups) == 0 {
		h2.next = h.next.WithAttrs(red)
		return &h2
	}
	h2.groups = slices.Clone(h.groups)
	last := &h2.groups[len(h2.groups)-1]
	kept := make([]slog.Attr, 0, len(last.attrs)+len(red))
	kept = append(kept, last.attrs...)
	for _, a := range red {
		if !empty(a) {
			kept = append(kept, a)
		}
	}
	last.attrs = slices.Clip(kept)
	return &h2
}

// WithGroup returns a Handler that nests the record's attributes, and those
// added later with WithAttrs, in group name. Stamped attributes stay at the
// top level. An empty name returns h.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = append(slices.Clip(h.groups), group{name: name})
	return &h2
}
