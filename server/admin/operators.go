package admin

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"fhirlink/server"
)

// Operators are the people allowed to call the admin API, kept in a file
// of one line per operator: the operator's name and the SHA-256 (hex) of
// the operator's token, separated by a space ('#' starts a comment). The
// file holds no token, only hashes; [AddOperator] writes it. It is read on
// every call, so removing a line revokes that token at once, with no
// restart.
//
// The tokens live with the deployment's configuration (like its TLS key)
// rather than in the state store, so that write access to the store alone
// does not make anyone an operator, and every node of a cluster can be
// given its own operators.
type Operators struct {
	File string
}

var operatorName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// maxOperatorsFile bounds the file read on every call.
const maxOperatorsFile = 1 << 20

// Authenticate returns the name of the operator whose token this is. It
// compares the token's hash with every line's in constant time. An unknown
// token is [server.EUNAUTHORIZED].
func (o *Operators) Authenticate(token string) (string, error) {
	b, err := os.ReadFile(o.File)
	if err != nil {
		return "", fmt.Errorf("operators file: %w", err)
	}
	if len(b) > maxOperatorsFile {
		return "", fmt.Errorf("operators file %s is over %d bytes", o.File, maxOperatorsFile)
	}
	got := server.HashSecret(token)
	found := ""
	for _, l := range operatorLines(b) {
		want, err := hex.DecodeString(l.hash)
		if err == nil && subtle.ConstantTimeCompare(got, want) == 1 && token != "" {
			found = l.name
		}
	}
	if found == "" {
		return "", server.Errorf(server.EUNAUTHORIZED, "unknown operator token; give an operator token as 'Authorization: Bearer TOKEN'")
	}
	return found, nil
}

type operatorLine struct{ name, hash string }

func operatorLines(b []byte) []operatorLine {
	var out []operatorLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, " ")
		if ok {
			out = append(out, operatorLine{name, strings.TrimSpace(hash)})
		}
	}
	return out
}

// AddOperator issues a new token for the operator called name and returns
// it (shown once): it writes the token's hash to the operators file at
// path (created with mode 0600 when missing), replacing that operator's
// previous token.
func AddOperator(path, name string) (token string, err error) {
	if !operatorName.MatchString(name) {
		return "", invalid("operator name %q: use 1 to 64 letters, digits, '.', '_', '@' or '-'", name)
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	token, hash := server.NewSecret()
	var out bytes.Buffer
	out.WriteString("# fhirlink operators: name and SHA-256 of the token. Delete a line to revoke it.\n")
	for _, l := range operatorLines(old) {
		if l.name != name {
			fmt.Fprintf(&out, "%s %s\n", l.name, l.hash)
		}
	}
	fmt.Fprintf(&out, "%s %s\n", name, hex.EncodeToString(hash))
	tmp, err := os.CreateTemp(filepath.Dir(path), ".operators-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out.Bytes()); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return token, os.Rename(tmp.Name(), path)
}
