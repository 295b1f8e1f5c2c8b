package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// Execution asks a site's agent what it knows of a write's execution id
// (see [wire.PathExecutions]) without running anything. It fails with
// [server.EUNAVAILABLE] when the site has no session or the session broke,
// and with an error when the agent does not know the endpoint (an agent
// older than execution ids, which runs every write it is sent).
func (h *Hub) Execution(ctx context.Context, siteID, executionID string) (wire.Execution, error) {
	s := h.session(siteID)
	if s == nil {
		return wire.Execution{}, errUnavailable(siteID)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://agent"+wire.PathExecutions+"/"+url.PathEscape(executionID), nil)
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return wire.Execution{}, ctx.Err()
		}
		return wire.Execution{}, server.Errorf(server.EUNAVAILABLE, "lost the connection to the agent of site %s", siteID)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var werr wire.Error
		if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&werr) == nil && werr.Kind != "" {
			return wire.Execution{}, &werr
		}
		return wire.Execution{}, fmt.Errorf("agent answered %s to an execution lookup", resp.Status)
	}
	var ex wire.Execution
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ex); err != nil {
		return wire.Execution{}, fmt.Errorf("agent's execution record unreadable: %w", err)
	}
	if ex.ID != executionID || ex.State == "" {
		return wire.Execution{}, fmt.Errorf("agent answered a record of %q in state %q for %q", ex.ID, ex.State, executionID)
	}
	return ex, nil
}
