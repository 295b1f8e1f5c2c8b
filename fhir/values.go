package fhir

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on one search, so a request cannot make the practice's database
// bind thousands of parameters (SQL Server stops at 2,100) or compare
// megabytes of text. Real searches stay far below them.
const (
	maxValueLen = 1024 // bytes in one parameter occurrence
	maxValues   = 100  // comma-separated values in one occurrence
	maxClauses  = 32   // parameter occurrences in one search
)

// idRE is FHIR's id datatype.
var idRE = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// typeRE is the shape of a resource type name.
var typeRE = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)

// Modifiers FHIR R4 defines for each parameter type that fhirlink does not
// implement: asking for one is a 400 not-supported rather than a 400
// invalid, so the client learns the difference between a typo and a
// missing feature.
var knownModifiers = map[ParamType][]string{
	TypeString:    {"missing", "text"},
	TypeToken:     {"text", "above", "below", "in", "not-in", "of-type", "missing"},
	TypeDate:      {"missing"},
	TypeReference: {"identifier", "missing", "above", "below"},
}

// clause parses one occurrence of a declared parameter: key is as given
// (name[:modifier]), raw its undecoded-by-type value. It returns the
// clause and its canonical key and value for Search.Applied.
func clause(sp SearchParam, key, mod string, raw string, opt ParseOptions) (Clause, string, string, error) {
	c := Clause{Param: sp}
	if err := checkRaw(key, raw); err != nil {
		return c, "", "", err
	}
	pieces := splitUnescaped(raw, ',')
	if len(pieces) > maxValues {
		return c, "", "", tooCostly("%s: %d values in one parameter; at most %d are allowed", key, len(pieces), maxValues)
	}
	refType := ""
	switch sp.Type {
	case TypeString:
		if mod != ModifierNone && mod != ModifierExact && mod != ModifierContains {
			return c, "", "", badModifier(sp, key, mod)
		}
	case TypeToken:
		if mod != ModifierNone && mod != ModifierNot {
			return c, "", "", badModifier(sp, key, mod)
		}
	case TypeDate:
		if mod != ModifierNone {
			return c, "", "", badModifier(sp, key, mod)
		}
	case TypeReference:
		// The [type] modifier (subject:Patient=123) is normalised to the
		// Type/id form, so mappings see one shape.
		if mod != ModifierNone {
			if !typeRE.MatchString(mod) {
				return c, "", "", badModifier(sp, key, mod)
			}
			if !slices.Contains(sp.Targets, mod) {
				return c, "", "", badRequest("%s: %s is not a resource type %s can refer to; it refers to %s", key, mod, sp.Name, targetList(sp))
			}
			refType, mod = mod, ModifierNone
		}
	default:
		return c, "", "", Errorf(http.StatusInternalServerError, IssueException, "%s: parameter type %q is not implemented", sp.Name, sp.Type)
	}
	c.Modifier = mod
	canon := make([]string, 0, len(pieces))
	for _, piece := range pieces {
		if piece == "" {
			return c, "", "", badRequest("%s: empty value in %q; separate values with single commas (escape a literal comma as \\,)", key, raw)
		}
		v, text, err := value(sp, key, piece, refType, opt)
		if err != nil {
			return c, "", "", err
		}
		c.Values = append(c.Values, v)
		canon = append(canon, text)
	}
	appliedKey := sp.Name
	if mod != ModifierNone {
		appliedKey += ":" + mod
	}
	return c, appliedKey, strings.Join(canon, ","), nil
}

// checkRaw refuses values no parameter type can use.
func checkRaw(key, raw string) error {
	switch {
	case strings.TrimSpace(raw) == "":
		return badRequest("%s: empty value; give a value or leave the parameter out", key)
	case len(raw) > maxValueLen:
		return tooCostly("%s: the value is %d bytes long; at most %d are allowed", key, len(raw), maxValueLen)
	case !utf8.ValidString(raw):
		return badRequest("%s: the value is not valid UTF-8", key)
	case strings.ContainsRune(raw, 0):
		return badRequest("%s: the value contains a NUL character", key)
	}
	return nil
}

// value parses one comma-separated piece (escapes still in) by the
// parameter's type, and returns its canonical text.
func value(sp SearchParam, key, piece, refType string, opt ParseOptions) (Value, string, error) {
	if sp.Name == "_id" {
		id := unescape(piece)
		if !idRE.MatchString(id) {
			return Value{}, "", badRequest("%s: %q is not a valid resource id (1 to 64 letters, digits, '-' or '.')", key, id)
		}
		return Value{Code: id}, id, nil
	}
	switch sp.Type {
	case TypeString:
		s := unescape(piece)
		if strings.TrimSpace(s) == "" {
			return Value{}, "", badRequest("%s: a value is blank; give text to match", key)
		}
		return Value{String: s}, escape(s), nil
	case TypeToken:
		return tokenValue(key, piece)
	case TypeDate:
		// An unescaped "+" of a zone offset decodes to a space; no date
		// has a space, so read it back as the "+" the client meant.
		s := strings.ReplaceAll(unescape(piece), " ", "+")
		v, err := parseDate(key, s, opt.Location, opt.Now)
		return v, s, err
	default: // TypeReference, checked by clause
		return referenceValue(sp, key, unescape(piece), refType)
	}
}

// tokenValue parses code, system|code, |code or system|.
func tokenValue(key, piece string) (Value, string, error) {
	parts := splitUnescaped(piece, '|')
	switch len(parts) {
	case 1:
		code := unescape(parts[0])
		return Value{Code: code}, escape(code), nil
	case 2:
		system, code := unescape(parts[0]), unescape(parts[1])
		if system == "" && code == "" {
			return Value{}, "", badRequest("%s: %q has neither a system nor a code; use code, system|code, |code or system|", key, piece)
		}
		return Value{System: &system, Code: code}, escape(system) + "|" + escape(code), nil
	default:
		return Value{}, "", badRequest("%s: %q has more than one '|'; use code, system|code, |code or system| (escape a literal '|' as \\|)", key, piece)
	}
}

// referenceValue parses id or Type/id. Absolute URLs are refused rather
// than matched against the base: every resource fhirlink serves is local,
// and the relative form is unambiguous.
func referenceValue(sp SearchParam, key, s, refType string) (Value, string, error) {
	if strings.Contains(s, "://") || strings.HasPrefix(s, "urn:") {
		return Value{}, "", unsupported("%s: absolute references (%q) are not supported; use Type/id (e.g. %s/123) or the id alone", key, s, exampleTarget(sp))
	}
	parts := strings.Split(s, "/")
	switch {
	case len(parts) == 1:
		if !idRE.MatchString(s) {
			return Value{}, "", badRequest("%s: %q is not a valid resource id (1 to 64 letters, digits, '-' or '.')", key, s)
		}
		if refType != "" {
			return Value{RefType: refType, RefID: s}, refType + "/" + s, nil
		}
		return Value{RefID: s}, s, nil
	case len(parts) == 2:
		typ, id := parts[0], parts[1]
		if !slices.Contains(sp.Targets, typ) {
			return Value{}, "", badRequest("%s: %q does not refer to a type %s can refer to (%s)", key, s, sp.Name, targetList(sp))
		}
		if refType != "" && typ != refType {
			return Value{}, "", badRequest("%s: %q contradicts the :%s modifier", key, s, refType)
		}
		if !idRE.MatchString(id) {
			return Value{}, "", badRequest("%s: %q has an invalid resource id (1 to 64 letters, digits, '-' or '.')", key, s)
		}
		return Value{RefType: typ, RefID: id}, typ + "/" + id, nil
	case len(parts) == 4 && parts[2] == "_history":
		return Value{}, "", unsupported("%s: version-specific references (%q) are not supported; use %s/%s", key, s, parts[0], parts[1])
	default:
		return Value{}, "", badRequest("%s: %q is not a reference; use Type/id (e.g. %s/123) or the id alone", key, s, exampleTarget(sp))
	}
}

// badModifier distinguishes a FHIR modifier this server lacks from one
// FHIR does not define for the type.
func badModifier(sp SearchParam, key, mod string) error {
	if slices.Contains(knownModifiers[sp.Type], mod) {
		return unsupported("%s: the :%s modifier is not supported; %s", key, mod, supportedModifiers(sp))
	}
	return badRequest("%s: :%s is not a modifier of %s parameters; %s", key, mod, sp.Type, supportedModifiers(sp))
}

func supportedModifiers(sp SearchParam) string {
	switch sp.Type {
	case TypeString:
		return sp.Name + " takes :exact and :contains"
	case TypeToken:
		return sp.Name + " takes :not"
	case TypeReference:
		return sp.Name + " takes a resource type modifier (" + targetList(sp) + ")"
	}
	return sp.Name + " takes no modifiers"
}

func targetList(sp SearchParam) string {
	if len(sp.Targets) == 0 {
		return "no types"
	}
	return strings.Join(sp.Targets, ", ")
}

func exampleTarget(sp SearchParam) string {
	if len(sp.Targets) > 0 {
		return sp.Targets[0]
	}
	return "Type"
}
