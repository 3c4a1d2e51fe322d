package main

import (
	"encoding/json"
	"net/http"
	"sync"

	"wstelnet/internal/tokens"
)

// targetListEntry is one named target as the page lists it: its name and
// description, not its address, which is the gateway's business.
type targetListEntry struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// targetListCache is /targets.json's body for one set of named targets:
// made once per reload, not once per request (every page load asks).
type targetListCache struct {
	mu   sync.Mutex
	set  *tokens.Set // the set body was made from
	body []byte
}

// serveTargetList tells the page which named targets there are and
// whether host:port may be typed too.
func (g *Gateway) serveTargetList(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(g.targetListBody())
}

// targetListBody is /targets.json's body for the current named targets.
func (g *Gateway) targetListBody() []byte {
	var set *tokens.Set
	if g.opts.Targets != nil {
		set = g.opts.Targets()
	}
	c := &g.targetList
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.body != nil && c.set == set {
		return c.body
	}
	list := struct {
		Free    bool              `json:"free"`
		Targets []targetListEntry `json:"targets"`
	}{Free: g.opts.Targets == nil || g.opts.FreeTargets, Targets: []targetListEntry{}}
	for _, t := range set.All() {
		list.Targets = append(list.Targets, targetListEntry{Name: t.Name, Description: t.Description})
	}
	body, _ := json.Marshal(list)
	c.set, c.body = set, append(body, '\n')
	return c.body
}
