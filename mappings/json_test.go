package mappings

import (
	"encoding/json"
	"strings"
	"testing"
)

// nastyStrings are strings encoding/json escapes in every way it can.
var nastyStrings = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "\x00\x01\x1f\x7f",
	"\b\f\n\r\t", "tab\there", "\u2028line\u2029para", "invalid \xff\xfe utf-8", "\xed\xa0\x80 surrogate",
	"truncated \xe2\x82", "emoji 😀 and é", "\uFFFD already", "O'Brien & Sons <Pty>",
}

func TestAppendStringAsEncodingJSON(t *testing.T) {
	for _, s := range nastyStrings {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range nastyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); string(got[1:]) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got[1:], want)
		}
	})
}

func TestJSONLeavesOutEmpty(t *testing.T) {
	w := NewResource("Patient")
	w.String("id", "1")
	w.String("language", "")
	w.Array("identifier")
	w.Object("")
	w.String("system", "")
	w.Object("type")
	w.Array("coding")
	w.End()
	w.End()
	w.End()
	w.End()
	w.Strings("given", "", "Ann", "")
	w.Strings("prefix", "", "")
	w.Words("display", " Dr ", "", "Ann  ", "<Lee>")
	w.Words("text", " ", "")
	w.Joined("reference", "Patient", "/", "1")
	w.Joined("comment", "", "")
	w.Object("meta")
	w.Bool("x", false)
	w.Int("n", -3)
	w.Float("f", 1.5, 2)
	w.Raw("r", []byte(`{"a":1}`))
	got := string(w.Bytes())
	want := `{"resourceType":"Patient","id":"1","given":["Ann"],"display":"Dr Ann \u003cLee\u003e","reference":"Patient/1","meta":{"x":false,"n":-3,"f":1.50,"r":{"a":1}}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var v any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Error(err)
	}
	if empty := NewResource("Basic").Bytes(); string(empty) != `{"resourceType":"Basic"}` {
		t.Errorf("empty resource: %s", empty)
	}
}

func TestJSONNestedTooDeeply(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "too deeply") {
			t.Errorf("recovered %v", r)
		}
	}()
	w := NewResource("Basic")
	for range maxDepth {
		w.Object("a")
	}
}
