package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

// Request ids tie together what one integrator request caused: the
// server's log lines, the audit record, and the agent's log line for each
// query it sent. The API takes the client's X-Request-Id when it is sane
// ([ValidRequestID]) or makes one ([NewRequestID]), answers it in the same
// header, and carries it in the request's context; the hub sends it to the
// agent with every query (wire.QueryRequest.RequestID).

// RequestIDMax is the longest request id taken from a client.
const RequestIDMax = 128

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ValidRequestID reports whether a client's request id can be used as it
// is: 1 to [RequestIDMax] characters among letters, digits and - _ . :
// (UUIDs, ULIDs and the ids of common proxies and tracers), so that it is
// safe in a log line, a header and a database column.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > RequestIDMax {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// NewRequestID returns a fresh request id: 128 random bits in hex.
func NewRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// LogHandler wraps h so that every record logged with a context carrying a
// request id (Logger.InfoContext and the like) gets a requestId attribute.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("requestId", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
