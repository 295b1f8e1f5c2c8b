package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"fhirlink/server"
)

// Client calls a server's admin HTTP API: the same operations as
// [Service.Call], with an operator token.
type Client struct {
	URL   string // the admin listener's base URL, e.g. http://127.0.0.1:8081
	Token string // an operator token (see [Operators])
	HTTP  *http.Client
}

// ErrorBody is the admin API's error answer.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Call runs the operation called name on the server and returns its JSON
// answer. An error the server answered is a [*server.Error] with its code.
func (c *Client) Call(ctx context.Context, name string, request []byte) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+PathPrefix+name, bytes.NewReader(request))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var eb ErrorBody
		if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
			return nil, &server.Error{Code: eb.Error.Code, Message: eb.Error.Message}
		}
		return nil, fmt.Errorf("the admin API answered %s", resp.Status)
	}
	return body, nil
}
