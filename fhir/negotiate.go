package fhir

import (
	"net/http"
	"strconv"
	"strings"
)

// Media types fhirlink answers with.
const (
	MIMEFHIRJSON = "application/fhir+json"
	MIMEJSON     = "application/json"
)

// Negotiate chooses the response's media type from the Accept header and
// the _format parameter, which overrides Accept as FHIR specifies. JSON is
// the only format: json, application/fhir+json (and the older
// application/json+fhir) give application/fhir+json; application/json
// gives application/json, for clients that only understand that. An absent
// Accept, */* and application/* give application/fhir+json. XML, Turtle
// and anything else that leaves no JSON type acceptable is a 406 *Error,
// which the HTTP layer still answers with a JSON OperationOutcome. A
// fhirVersion media type parameter other than 4.0 makes its type
// unacceptable, as this is an R4 server.
//
// The result carries no charset parameter; the HTTP layer adds
// "; charset=utf-8".
func Negotiate(accept, format string) (string, *Error) {
	if format = strings.TrimSpace(format); format != "" {
		return negotiateFormat(format)
	}
	if strings.TrimSpace(accept) == "" {
		return MIMEFHIRJSON, nil
	}
	ranges := parseAccept(accept)
	fq, jq := acceptQ(ranges, MIMEFHIRJSON), acceptQ(ranges, MIMEJSON)
	switch {
	case fq > 0 && fq >= jq:
		return MIMEFHIRJSON, nil
	case jq > 0:
		return MIMEJSON, nil
	}
	for _, r := range ranges {
		if isXML(r.typ) {
			return "", notAcceptable("XML is not supported; this server speaks FHIR JSON only: accept application/fhir+json")
		}
	}
	return "", notAcceptable("none of the accepted media types (%s) can be served; this server speaks FHIR R4 JSON only: accept application/fhir+json", accept)
}

func notAcceptable(format string, args ...any) *Error {
	return Errorf(http.StatusNotAcceptable, IssueNotSupported, format, args...)
}

// negotiateFormat interprets _format. In a query string an unescaped "+"
// decodes to a space, so _format=application/fhir+json arrives as
// "application/fhir json": spaces are read back as "+".
func negotiateFormat(format string) (string, *Error) {
	typ, params, _ := strings.Cut(strings.ReplaceAll(format, " ", "+"), ";")
	typ = strings.ToLower(strings.TrimSpace(typ))
	if !fhirVersionOK(params) {
		return "", notAcceptable("_format=%s asks for a FHIR version other than R4 (4.0); this server speaks FHIR R4 JSON only: use _format=json", format)
	}
	switch typ {
	case "json", MIMEFHIRJSON, "application/json+fhir":
		return MIMEFHIRJSON, nil
	case MIMEJSON:
		return MIMEJSON, nil
	}
	if typ == "xml" || isXML(typ) {
		return "", notAcceptable("_format=%s: XML is not supported; this server speaks FHIR JSON only: use _format=json", format)
	}
	return "", notAcceptable("_format=%s is not supported; this server speaks FHIR JSON only: use _format=json", format)
}

func isXML(typ string) bool { return strings.Contains(typ, "xml") }

// mediaRange is one element of an Accept header.
type mediaRange struct {
	typ string // lower case, e.g. application/fhir+json, application/*, */*
	q   float64
	ok  bool // false when its fhirVersion is not R4
}

func parseAccept(accept string) []mediaRange {
	var ranges []mediaRange
	for part := range strings.SplitSeq(accept, ",") {
		typ, params, _ := strings.Cut(part, ";")
		r := mediaRange{typ: strings.ToLower(strings.TrimSpace(typ)), q: 1, ok: fhirVersionOK(params)}
		if r.typ == "" {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || q < 0 || q > 1 {
					q = 0 // a malformed weight makes the range unusable rather than preferred
				}
				r.q = q
			}
		}
		ranges = append(ranges, r)
	}
	return ranges
}

// acceptQ is the weight Accept gives mime: that of the most specific range
// matching it (RFC 9110), 0 when none does.
func acceptQ(ranges []mediaRange, mime string) float64 {
	best, q := 0, 0.0
	major, _, _ := strings.Cut(mime, "/")
	for _, r := range ranges {
		spec := 0
		switch {
		case r.typ == mime || (mime == MIMEFHIRJSON && r.typ == "application/json+fhir"):
			spec = 3
		case r.typ == major+"/*":
			spec = 2
		case r.typ == "*/*":
			spec = 1
		}
		if spec > best && r.ok {
			best, q = spec, r.q
		}
	}
	return q
}

// fhirVersionOK reports whether media type parameters allow FHIR R4.
func fhirVersionOK(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "fhirVersion") {
			v = strings.Trim(strings.TrimSpace(v), `"`)
			return v == "4.0" || strings.HasPrefix(v, "4.0.")
		}
	}
	return true
}
